import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.Properties;
import java.util.concurrent.Executors;

/**
 * holdfast's demo app: a tiny "shop service" that fails at startup the way a Spring Boot
 * app without a database URL does.
 *
 * The database URL comes from the environment (SHOP_DB_URL) or from the properties file
 * SHOP_CONFIG (default /etc/shop/application.properties), key shop.db.url or
 * spring.datasource.url; the environment wins, as in Spring. Without it the app logs its
 * startup, prints Spring's DataSource failure analysis on stderr and exits 1. With it, it
 * serves on $PORT (default 8080): "/" and /actuator/health/{liveness,readiness}.
 */
public class Shop {
    static final DateTimeFormatter TS = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSS");
    static final long PID = ProcessHandle.current().pid();
    static final long T0 = System.nanoTime();

    // Spring's %15.15t keeps the end of a long thread name.
    static String lastChars(String s, int n) {
        return s.length() <= n ? s : s.substring(s.length() - n);
    }

    static void log(String level, String logger, String msg) {
        System.out.printf("%s %5s %d --- [%15s] %-40s : %s%n", LocalDateTime.now().format(TS), level, PID,
                lastChars(Thread.currentThread().getName(), 15), logger, msg);
    }

    static String seconds() {
        return String.format("%.3f", (System.nanoTime() - T0) / 1e9);
    }

    /** The URL from the environment, else from the properties file; null when neither has one. */
    static String databaseUrl(String configPath) throws IOException {
        String url = System.getenv("SHOP_DB_URL");
        if (url != null && !url.isBlank()) {
            return url;
        }
        Properties props = new Properties();
        try (InputStream in = Files.newInputStream(Path.of(configPath))) {
            props.load(in);
        } catch (NoSuchFileException e) {
            return null;
        }
        url = props.getProperty("shop.db.url", props.getProperty("spring.datasource.url"));
        return url == null || url.isBlank() ? null : url.trim();
    }

    static void failNoDataSource() {
        log("WARN", "ConfigServletWebServerApplicationContext", "Exception encountered during context "
                + "initialization - cancelling refresh attempt: org.springframework.beans.factory."
                + "UnsatisfiedDependencyException: Error creating bean with name 'orderRepository': "
                + "Failed to configure a DataSource");
        log("INFO", "o.apache.catalina.core.StandardService", "Stopping service [Tomcat]");
        System.out.flush();
        System.err.println();
        System.err.println("***************************");
        System.err.println("APPLICATION FAILED TO START");
        System.err.println("***************************");
        System.err.println();
        System.err.println("Description:");
        System.err.println();
        System.err.println("Failed to configure a DataSource: 'url' attribute is not specified and no embedded "
                + "datasource could be configured.");
        System.err.println();
        System.err.println("Reason: Failed to determine a suitable driver class");
        System.err.println();
        System.err.println();
        System.err.println("Action:");
        System.err.println();
        System.err.println("Consider the following:");
        System.err.println("\tIf you want an embedded database (H2, HSQL or Derby), please put it on the classpath.");
        System.err.println("\tIf you have database settings to be loaded from a particular profile you may need "
                + "to activate it (no profiles are currently active).");
        System.err.println("\tOtherwise set SHOP_DB_URL, or shop.db.url in the configuration file.");
        System.err.println();
        System.exit(1);
    }

    static void send(HttpExchange ex, int code, String type, String body) throws IOException {
        byte[] b = body.getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().set("Content-Type", type);
        ex.sendResponseHeaders(code, b.length);
        try (OutputStream out = ex.getResponseBody()) {
            out.write(b);
        }
    }

    public static void main(String[] args) throws IOException {
        String config = System.getenv().getOrDefault("SHOP_CONFIG", "/etc/shop/application.properties");
        int port = Integer.parseInt(System.getenv().getOrDefault("PORT", "8080"));

        System.out.println();
        System.out.println(" :: Shop Service ::        (v1.4.2, Spring Boot style)");
        System.out.println();
        log("INFO", "com.example.shop.ShopApplication", "Starting ShopApplication v1.4.2 using Java "
                + System.getProperty("java.version") + " with PID " + PID);
        log("INFO", "com.example.shop.ShopApplication", "No active profile set, falling back to 1 default "
                + "profile: \"default\"");
        log("INFO", "o.s.b.c.config.ConfigDataEnvironment", "Reading configuration from " + config);
        log("INFO", "o.s.b.w.embedded.tomcat.TomcatWebServer", "Tomcat initialized with port " + port + " (http)");
        log("INFO", "o.apache.catalina.core.StandardService", "Starting service [Tomcat]");

        String url = databaseUrl(config);
        if (url == null) {
            failNoDataSource();
        }
        log("INFO", "com.zaxxer.hikari.HikariDataSource", "HikariPool-1 - Starting... (" + url + ")");

        HttpServer server = HttpServer.create(new InetSocketAddress(port), 64);
        server.setExecutor(Executors.newFixedThreadPool(8));
        server.createContext("/actuator/health/liveness",
                ex -> send(ex, 200, "application/vnd.spring-boot.actuator.v3+json", "{\"status\":\"UP\"}"));
        server.createContext("/actuator/health/readiness",
                ex -> send(ex, 200, "application/vnd.spring-boot.actuator.v3+json", "{\"status\":\"UP\"}"));
        server.createContext("/", ex -> {
            if (!ex.getRequestURI().getPath().equals("/")) {
                send(ex, 404, "text/plain", "not found\n");
                return;
            }
            send(ex, 200, "text/html; charset=utf-8", "<!doctype html><title>Shop</title>"
                    + "<h1>The shop is open</h1><p>Served by pid " + PID + ".</p>\n");
        });
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            log("INFO", "o.s.b.w.e.tomcat.GracefulShutdown", "Commencing graceful shutdown. "
                    + "Waiting for active requests to complete");
            server.stop(0);
            log("INFO", "o.s.b.w.e.tomcat.GracefulShutdown", "Graceful shutdown complete");
        }, "SpringApplicationShutdownHook"));
        server.start();
        log("INFO", "o.s.b.w.embedded.tomcat.TomcatWebServer", "Tomcat started on port(s): "
                + server.getAddress().getPort() + " (http) with context path ''");
        log("INFO", "com.example.shop.ShopApplication", "Started ShopApplication in " + seconds() + " seconds");
    }
}
