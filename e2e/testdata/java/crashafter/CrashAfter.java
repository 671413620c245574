/**
 * Prints "up", sleeps CRASH_AFTER_MS (default 2000) and exits with CRASH_CODE (default 3):
 * a crash after a chosen lifetime, for hold-window and late-crash scenarios.
 */
public class CrashAfter {
    public static void main(String[] args) throws InterruptedException {
        long after = Long.parseLong(System.getenv().getOrDefault("CRASH_AFTER_MS", "2000"));
        int code = Integer.parseInt(System.getenv().getOrDefault("CRASH_CODE", "3"));
        System.out.println("up");
        Thread.sleep(after);
        System.out.println("exiting with " + code);
        System.exit(code);
    }
}
