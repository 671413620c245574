import java.io.File;
import java.util.ArrayList;
import java.util.List;

/**
 * Starts ORPHANS (default 3) "sleep 1000" children, prints "orphan <pid>" for each and exits
 * 1 without waiting for them: they are left to whoever reaps orphans (PID 1 or a subreaper).
 */
public class Orphans {
    public static void main(String[] args) throws Exception {
        int n = Integer.parseInt(System.getenv().getOrDefault("ORPHANS", "3"));
        List<Process> kids = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            ProcessBuilder pb = new ProcessBuilder("sleep", "1000");
            // No pipes back to us: the children must not keep our stdout open.
            pb.redirectInput(new File("/dev/null"));
            pb.redirectOutput(ProcessBuilder.Redirect.DISCARD);
            pb.redirectError(ProcessBuilder.Redirect.DISCARD);
            kids.add(pb.start());
        }
        for (Process p : kids) {
            System.out.println("orphan " + p.pid());
        }
        System.out.flush();
        System.exit(1);
    }
}
