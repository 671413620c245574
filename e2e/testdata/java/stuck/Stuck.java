import com.sun.net.httpserver.HttpServer;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;

/**
 * A web app that deadlocks on demand, for thread dumps, and can keep a large heap, for
 * heap dumps that take a while.
 *
 * GET /live on 127.0.0.1:$PORT (0 = any free port) answers 200 until the file $HANG_FILE
 * exists. From then on two threads, "deadlock-a" and "deadlock-b", hold one monitor each
 * and wait for the other's (a Java-level deadlock), and every liveness request blocks on
 * the first monitor. With ALLOC_MB it keeps that many MiB of live byte arrays (1 KiB each).
 * It prints "Started on port N" once it listens.
 */
public class Stuck {
    static final Object A = new Object();
    static final Object B = new Object();
    static final List<byte[]> KEEP = new ArrayList<>();
    static boolean deadlocked;

    static synchronized void deadlock() throws InterruptedException {
        if (deadlocked) {
            return;
        }
        deadlocked = true;
        CountDownLatch both = new CountDownLatch(2);
        start("deadlock-a", A, B, both);
        start("deadlock-b", B, A, both);
        both.await();
    }

    static void start(String name, Object first, Object second, CountDownLatch both) {
        Thread t = new Thread(() -> {
            synchronized (first) {
                both.countDown();
                try {
                    both.await();
                } catch (InterruptedException e) {
                    return;
                }
                synchronized (second) {
                    System.out.println("unreachable");
                }
            }
        }, name);
        t.setDaemon(true);
        t.start();
    }

    public static void main(String[] args) throws Exception {
        String hangFile = System.getenv("HANG_FILE");
        int port = Integer.parseInt(System.getenv().getOrDefault("PORT", "0"));
        long allocMB = Long.parseLong(System.getenv().getOrDefault("ALLOC_MB", "0"));
        for (long i = 0; i < allocMB * 1024; i++) {
            KEEP.add(new byte[1024 - 16]);
        }
        HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getByName("127.0.0.1"), port), 64);
        server.setExecutor(Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "http-worker");
            t.setDaemon(true);
            return t;
        }));
        server.createContext("/live", ex -> {
            if (hangFile != null && Files.exists(Path.of(hangFile))) {
                try {
                    deadlock();
                } catch (InterruptedException e) {
                    return;
                }
                synchronized (A) {
                    System.out.println("unreachable");
                }
            }
            byte[] body = "UP\n".getBytes();
            ex.sendResponseHeaders(200, body.length);
            try (OutputStream out = ex.getResponseBody()) {
                out.write(body);
            }
        });
        server.start();
        System.out.println("Started on port " + server.getAddress().getPort() + " keeping " + KEEP.size() + " KiB");
        System.out.flush();
        Thread.sleep(Long.MAX_VALUE);
    }
}
