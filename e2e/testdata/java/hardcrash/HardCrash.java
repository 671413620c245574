import java.lang.reflect.Field;
import sun.misc.Unsafe;

/**
 * A real JVM crash: a write to address 0 through sun.misc.Unsafe is a SIGSEGV inside the
 * VM, which writes hs_err_pid<pid>.log (-XX:ErrorFile) and calls abort(): exit 134.
 * Note that -XX:-CreateCoredumpOnCrash turns the abort into exit(1).
 */
public class HardCrash {
    public static void main(String[] args) throws Exception {
        Field f = Unsafe.class.getDeclaredField("theUnsafe");
        f.setAccessible(true);
        Unsafe unsafe = (Unsafe) f.get(null);
        System.out.println("crashing");
        System.out.flush();
        unsafe.putAddress(0, 0);
        System.out.println("still alive?");
    }
}
