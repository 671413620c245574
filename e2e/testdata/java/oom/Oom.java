import java.util.ArrayList;
import java.util.List;

/**
 * Fills the heap with 1 MiB arrays until OutOfMemoryError (run it with -Xmx16m). The error
 * is not caught: the JVM prints it and exits 1, after writing a heap dump when
 * -XX:+HeapDumpOnOutOfMemoryError is on.
 */
public class Oom {
    // Static so the arrays stay reachable until the error escapes main.
    static final List<byte[]> HOARD = new ArrayList<>();

    public static void main(String[] args) {
        System.out.println("allocating");
        while (true) {
            HOARD.add(new byte[1 << 20]);
        }
    }
}
