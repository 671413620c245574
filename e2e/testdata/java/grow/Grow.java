import java.util.ArrayList;
import java.util.List;

/**
 * Grows its heap by GROW_MB_PER_SEC (default 8) MiB a second, in 1 MiB arrays it keeps,
 * until something stops it: run it with an -Xmx above the container's memory limit and
 * the kernel's OOM killer ends it, not an OutOfMemoryError. Each array is written to, so
 * its pages are resident. It prints its heap every second.
 */
public class Grow {
    static final List<byte[]> HOARD = new ArrayList<>();

    public static void main(String[] args) throws Exception {
        String v = System.getenv("GROW_MB_PER_SEC");
        int perSec = v == null || v.isEmpty() ? 8 : Integer.parseInt(v);
        System.out.println("growing by " + perSec + " MiB/s, max heap "
                + (Runtime.getRuntime().maxMemory() >> 20) + " MiB");
        long next = System.nanoTime();
        while (true) {
            for (int i = 0; i < perSec; i++) {
                byte[] b = new byte[1 << 20];
                for (int j = 0; j < b.length; j += 4096) {
                    b[j] = 1;
                }
                HOARD.add(b);
            }
            System.out.println("held " + HOARD.size() + " MiB");
            next += 1_000_000_000L;
            long sleep = (next - System.nanoTime()) / 1_000_000;
            if (sleep > 0) {
                Thread.sleep(sleep);
            }
        }
    }
}
