package cause

// Frameworks are the class-name prefixes of code that is not the app's own:
// the JDK, the frameworks and servers, the usual libraries a failure passes
// through. A chain's Frame is the first frame outside them. This is the one
// list; keep it sorted by family.
var Frameworks = []string{
	// the JDK
	"java.", "javax.", "jdk.", "sun.", "com.sun.",
	// JVM languages
	"kotlin.", "kotlinx.", "scala.", "groovy.", "org.codehaus.groovy.",
	// Spring, servers, Jakarta EE
	"jakarta.", "org.springframework.", "org.apache.catalina.", "org.apache.coyote.",
	"org.apache.tomcat.", "org.eclipse.jetty.", "io.undertow.", "org.jboss.",
	"io.netty.", "reactor.",
	// persistence
	"org.hibernate.", "com.zaxxer.hikari.", "org.flywaydb.", "liquibase.",
	"org.postgresql.", "com.mysql.", "org.mariadb.", "oracle.jdbc.", "org.h2.",
	// logging, reflection, plumbing
	"ch.qos.logback.", "org.slf4j.", "org.apache.logging.", "org.apache.commons.",
	"com.fasterxml.jackson.", "net.bytebuddy.", "org.aspectj.", "io.micrometer.",
}
