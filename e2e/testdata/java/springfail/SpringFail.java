import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;

/**
 * A startup crash shaped like a Spring Boot application that cannot create a bean:
 * banner and INFO lines on stdout, the failure analysis and an uncaught exception with a
 * "Caused by:" chain on stderr. The exception escapes main, so the JVM itself prints the
 * trace and exits with code 1.
 */
public class SpringFail {
    static final DateTimeFormatter TS = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSS");
    static final long PID = ProcessHandle.current().pid();

    static void log(String level, String thread, String logger, String msg) {
        System.out.printf("%s %5s %d --- [%15s] %-40s : %s%n",
                LocalDateTime.now().format(TS), level, PID, thread, logger, msg);
    }

    static class BeanCreationException extends RuntimeException {
        BeanCreationException(String msg, Throwable cause) { super(msg, cause); }
    }

    static class UnsatisfiedDependencyException extends RuntimeException {
        UnsatisfiedDependencyException(String msg, Throwable cause) { super(msg, cause); }
    }

    static class OrderRepository {
        OrderRepository() {
            // The root cause: what a JDBC driver reports when nothing listens on the port.
            throw new IllegalStateException("Failed to obtain JDBC Connection",
                    new java.net.ConnectException("Connection refused: localhost/127.0.0.1:5432"));
        }
    }

    static Object createBean(String name) {
        try {
            return new OrderRepository();
        } catch (RuntimeException e) {
            throw new UnsatisfiedDependencyException("Error creating bean with name '" + name
                    + "': Unsatisfied dependency expressed through constructor parameter 0", e);
        }
    }

    static void refreshContext() {
        try {
            createBean("orderService");
        } catch (RuntimeException e) {
            throw new BeanCreationException("Error creating bean with name 'orderController' defined in "
                    + "URL [jar:file:/app/app.jar!/BOOT-INF/classes!/com/example/shop/OrderController.class]", e);
        }
    }

    public static void main(String[] args) {
        System.out.println();
        System.out.println("  .   ____          _            __ _ _");
        System.out.println(" /\\\\ / ___'_ __ _ _(_)_ __  __ _ \\ \\ \\ \\");
        System.out.println("( ( )\\___ | '_ | '_| | '_ \\/ _` | \\ \\ \\ \\");
        System.out.println(" \\\\/  ___)| |_)| | | | | || (_| |  ) ) ) )");
        System.out.println("  '  |____| .__|_| |_|_| |_\\__, | / / / /");
        System.out.println(" =========|_|==============|___/=/_/_/_/");
        System.out.println(" :: Spring Boot ::                (v3.2.5)");
        System.out.println();
        log("INFO", "main", "com.example.shop.Application",
                "Starting Application v0.0.1-SNAPSHOT using Java " + System.getProperty("java.version")
                        + " with PID " + PID);
        log("INFO", "main", "com.example.shop.Application",
                "No active profile set, falling back to 1 default profile: \"default\"");
        log("INFO", "main", "o.s.b.w.embedded.tomcat.TomcatWebServer", "Tomcat initialized with port 8080 (http)");
        log("INFO", "main", "w.s.c.ServletWebServerApplicationContext",
                "Root WebApplicationContext: initialization completed in 812 ms");
        log("WARN", "main", "ConfigServletWebServerApplicationContext",
                "Exception encountered during context initialization - cancelling refresh attempt");
        System.out.flush();

        System.err.println();
        System.err.println("***************************");
        System.err.println("APPLICATION FAILED TO START");
        System.err.println("***************************");
        System.err.println();
        System.err.println("Description:");
        System.err.println();
        System.err.println("The dependencies of some of the beans in the application context form a failure:");
        System.err.println("orderController -> orderService -> orderRepository: Failed to obtain JDBC Connection");
        System.err.println();
        System.err.println("Action:");
        System.err.println();
        System.err.println("Check that the database at localhost:5432 is running and reachable.");
        System.err.println();
        System.err.flush();

        refreshContext(); // throws; the JVM prints "Exception in thread "main"" and exits 1
    }
}
