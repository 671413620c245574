import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A Spring-Boot-like web app with actuator health groups on 127.0.0.1:$PORT (default 8080;
 * 0 = any free port, read the real one from the "Tomcat started on port(s): N" line).
 *
 * GET /actuator/health/liveness and /actuator/health/readiness answer {"status":"UP"} 200,
 * or 503 with {"status":"DOWN"} (readiness: READINESS_DOWN_STATUS, e.g. OUT_OF_SERVICE).
 * Times are milliseconds since the server started listening (not since main: a loaded box
 * can take seconds to get there); every health answer carries that age in X-Zoo-Uptime-Ms.
 * MODE:
 *   ready-after       readiness down until READY_AFTER_MS (default 2000), then up
 *   unready-later     readiness up after READY_AFTER_MS (default 0), down after UNREADY_AFTER_MS (default 3000)
 *   live-hang         ready at once; from HANG_AFTER_MS (default 2000) every liveness request
 *                     blocks forever in a thread renamed "stuck-in-liveness", parked in waitForDatabaseLock
 *   crash-unless-file exits 1 with a Spring-like failure unless the file FIX_FILE exists;
 *                     otherwise serves, ready after READY_AFTER_MS (default 0)
 * Files instead of clocks, for tests that must not depend on timing: with READY_FILE set,
 * readiness is up exactly while that file exists (any mode); with HANG_FILE set in live-hang,
 * liveness hangs once that file exists.
 */
public class Health {
    static final DateTimeFormatter TS = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSS");
    static final long PID = ProcessHandle.current().pid();
    static volatile long t0; // nanoTime when the server started listening
    // Held for ever by "db-connection-holder" once a liveness request hangs.
    static final ReentrantLock DB_LOCK = new ReentrantLock();

    // Spring's %15.15t keeps the end of a long thread name.
    static String lastChars(String s, int n) {
        return s.length() <= n ? s : s.substring(s.length() - n);
    }

    static void log(String level, String logger, String msg) {
        System.out.printf("%s %5s %d --- [%15s] %-40s : %s%n", LocalDateTime.now().format(TS), level, PID,
                lastChars(Thread.currentThread().getName(), 15), logger, msg);
    }

    static long env(String name, long def) {
        String v = System.getenv(name);
        return v == null || v.isEmpty() ? def : Long.parseLong(v);
    }

    static long sinceStartMs() {
        return (System.nanoTime() - t0) / 1_000_000;
    }

    static void reply(HttpExchange ex, long uptime, int code, String status) throws IOException {
        ex.getResponseHeaders().set("X-Zoo-Uptime-Ms", Long.toString(uptime));
        byte[] body = ("{\"status\":\"" + status + "\"}").getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().set("Content-Type", "application/vnd.spring-boot.actuator.v3+json");
        ex.sendResponseHeaders(code, body.length);
        try (OutputStream out = ex.getResponseBody()) {
            out.write(body);
        }
    }

    /** Stands for a JDBC call stuck behind a lock that is never released: what a thread dump must reveal. */
    static void waitForDatabaseLock() {
        DB_LOCK.lock();
        DB_LOCK.unlock();
    }

    static void holdDatabaseLockForever() {
        Thread holder = new Thread(() -> {
            DB_LOCK.lock();
            while (true) {
                try {
                    Thread.sleep(Long.MAX_VALUE);
                } catch (InterruptedException ignored) {
                    // keep holding
                }
            }
        }, "db-connection-holder");
        holder.setDaemon(true);
        holder.start();
        while (!DB_LOCK.isLocked()) {
            Thread.onSpinWait();
        }
    }

    static void failToStart() {
        System.err.println();
        System.err.println("***************************");
        System.err.println("APPLICATION FAILED TO START");
        System.err.println("***************************");
        System.err.println();
        System.err.println("Description:");
        System.err.println();
        System.err.println("Config data resource 'file [" + System.getenv("FIX_FILE") + "]' via location '"
                + System.getenv("FIX_FILE") + "' does not exist");
        System.err.println();
        System.err.println("Action:");
        System.err.println();
        System.err.println("Check that the value 'optional:file:" + System.getenv("FIX_FILE")
                + "' at class path resource [application.properties] is correct, or prefix it with 'optional:'");
        System.err.println();
        System.exit(1);
    }

    public static void main(String[] args) throws Exception {
        String mode = System.getenv().getOrDefault("MODE", "ready-after");
        int port = (int) env("PORT", 8080);
        long readyAfter = env("READY_AFTER_MS", mode.equals("ready-after") ? 2000 : 0);
        long unreadyAfter = env("UNREADY_AFTER_MS", 3000);
        long hangAfter = env("HANG_AFTER_MS", 2000);
        String readinessDown = System.getenv().getOrDefault("READINESS_DOWN_STATUS", "DOWN");
        String readyFile = System.getenv("READY_FILE");
        String hangFile = System.getenv("HANG_FILE");

        log("INFO", "com.example.health.HealthApplication", "Starting HealthApplication using Java "
                + System.getProperty("java.version") + " with PID " + PID + " (mode " + mode + ")");
        switch (mode) {
            case "ready-after":
            case "unready-later":
            case "live-hang":
                break;
            case "crash-unless-file":
                String fix = System.getenv("FIX_FILE");
                if (fix == null || fix.isEmpty() || !Files.exists(Path.of(fix))) {
                    failToStart();
                }
                break;
            default:
                System.err.println("unknown MODE " + mode);
                System.exit(2);
        }

        AtomicInteger n = new AtomicInteger();
        // Unbounded, so requests stuck in a hung liveness handler never starve readiness.
        ExecutorService pool = Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "http-nio-exec-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getByName("127.0.0.1"), port), 64);
        server.setExecutor(pool);
        server.createContext("/actuator/health/liveness", ex -> {
            long t = sinceStartMs();
            boolean hang = hangFile != null ? Files.exists(Path.of(hangFile)) : t >= hangAfter;
            if (mode.equals("live-hang") && hang) {
                Thread.currentThread().setName("stuck-in-liveness");
                waitForDatabaseLock(); // never returns
            }
            reply(ex, t, 200, "UP");
        });
        server.createContext("/actuator/health/readiness", ex -> {
            long t = sinceStartMs();
            boolean ready = readyFile != null ? Files.exists(Path.of(readyFile))
                    : t >= readyAfter && !(mode.equals("unready-later") && t >= unreadyAfter);
            if (ready) {
                reply(ex, t, 200, "UP");
            } else {
                reply(ex, t, 503, readinessDown);
            }
        });
        server.createContext("/", ex -> {
            byte[] body = ("health app, mode " + mode + "\n").getBytes(StandardCharsets.UTF_8);
            ex.sendResponseHeaders(ex.getRequestURI().getPath().equals("/") ? 200 : 404, body.length);
            try (OutputStream out = ex.getResponseBody()) {
                out.write(body);
            }
        });
        if (mode.equals("live-hang")) {
            holdDatabaseLockForever();
        }
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            log("INFO", "o.s.b.w.e.tomcat.GracefulShutdown", "Commencing graceful shutdown. "
                    + "Waiting for active requests to complete");
            server.stop(0);
            log("INFO", "o.s.b.w.e.tomcat.GracefulShutdown", "Graceful shutdown complete");
        }, "SpringApplicationShutdownHook"));
        t0 = System.nanoTime();
        server.start();
        log("INFO", "o.s.b.w.embedded.tomcat.TomcatWebServer", "Tomcat started on port(s): "
                + server.getAddress().getPort() + " (http) with context path ''");
        log("INFO", "com.example.health.HealthApplication", "Started HealthApplication in "
                + ManagementFactory.getRuntimeMXBean().getUptime() / 1000.0 + " seconds");
    }
}
