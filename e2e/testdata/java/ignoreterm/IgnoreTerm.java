import sun.misc.Signal;

/**
 * Ignores SIGTERM and SIGINT (each one prints "ignoring TERM"/"ignoring INT"), so only
 * SIGKILL stops it. SIGQUIT is left to the JVM, which prints a full thread dump on stdout.
 */
public class IgnoreTerm {
    public static void main(String[] args) throws InterruptedException {
        Signal.handle(new Signal("TERM"), s -> System.out.println("ignoring TERM"));
        Signal.handle(new Signal("INT"), s -> System.out.println("ignoring INT"));
        System.out.println("ready");
        while (true) {
            Thread.sleep(Long.MAX_VALUE);
        }
    }
}
