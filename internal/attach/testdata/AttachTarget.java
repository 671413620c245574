import java.util.concurrent.CountDownLatch;

// The attach tests' JVM. "idle" waits forever; "deadlock" also starts two
// threads that deadlock on two monitors. It prints "ready" once set up.
public class AttachTarget {
    static final Object a = new Object();
    static final Object b = new Object();

    public static void main(String[] args) throws Exception {
        if (args.length > 0 && args[0].equals("deadlock")) {
            CountDownLatch both = new CountDownLatch(2);
            start("deadlock-1", a, b, both);
            start("deadlock-2", b, a, both);
            both.await();
        }
        System.out.println("ready");
        System.out.flush();
        Thread.sleep(Long.MAX_VALUE);
    }

    static void start(String name, Object first, Object second, CountDownLatch both) {
        Thread t = new Thread(() -> {
            synchronized (first) {
                both.countDown();
                try { both.await(); } catch (InterruptedException e) { return; }
                synchronized (second) {
                    System.out.println("unreachable");
                }
            }
        }, name);
        t.setDaemon(true);
        t.start();
    }
}
