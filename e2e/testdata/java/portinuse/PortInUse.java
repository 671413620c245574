import java.io.IOException;
import java.net.BindException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;

/**
 * Binds 127.0.0.1:$PORT (default 8080; 0 = any free port). When the port is taken it fails
 * the way Spring Boot's embedded Tomcat does and exits 1; otherwise it prints
 * "listening on N" and accepts (and closes) connections until killed.
 */
public class PortInUse {
    public static void main(String[] args) throws IOException {
        int port = Integer.parseInt(System.getenv().getOrDefault("PORT", "8080"));
        ServerSocket server = new ServerSocket();
        try {
            server.bind(new InetSocketAddress(InetAddress.getByName("127.0.0.1"), port));
        } catch (BindException e) {
            System.err.println();
            System.err.println("***************************");
            System.err.println("APPLICATION FAILED TO START");
            System.err.println("***************************");
            System.err.println();
            System.err.println("Description:");
            System.err.println();
            System.err.println("Web server failed to start. Port " + port + " was already in use.");
            System.err.println();
            System.err.println("Action:");
            System.err.println();
            System.err.println("Identify and stop the process that's listening on port " + port
                    + " or configure this application to listen on another port.");
            System.err.println();
            System.exit(1);
        }
        System.out.println("listening on " + server.getLocalPort());
        while (true) {
            try (Socket s = server.accept()) {
                s.getOutputStream().write("portinuse\n".getBytes());
            } catch (IOException e) {
                System.err.println("accept: " + e);
            }
        }
    }
}
