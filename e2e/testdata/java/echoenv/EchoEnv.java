/**
 * Prints what the JVM received: "argc=N", one "arg[i]=<value>" line per argument,
 * JAVA_TOOL_OPTIONS ("JAVA_TOOL_OPTIONS=<value>" or "JAVA_TOOL_OPTIONS unset"),
 * "cwd=<dir>", and "env NAME=<value>" for each name in the comma list ECHO_ENV. Exits 0.
 */
public class EchoEnv {
    static void printVar(String name, String prefix) {
        String v = System.getenv(name);
        System.out.println(v == null ? prefix + name + " unset" : prefix + name + "=" + v);
    }

    public static void main(String[] args) {
        System.out.println("argc=" + args.length);
        for (int i = 0; i < args.length; i++) {
            System.out.println("arg[" + i + "]=" + args[i]);
        }
        printVar("JAVA_TOOL_OPTIONS", "");
        System.out.println("cwd=" + System.getProperty("user.dir"));
        String names = System.getenv("ECHO_ENV");
        if (names != null && !names.isEmpty()) {
            for (String name : names.split(",")) {
                printVar(name, "env ");
            }
        }
    }
}
