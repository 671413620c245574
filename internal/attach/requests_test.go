package attach

// The requests of the other attach tools (jstack, jmap and the properties
// jinfo reads), which holdfast sends as jcmd lines instead; the tests
// exercise the protocol with them.

// ThreadDump is the thread dump jstack asks for; locks adds the owned
// synchronizers (-l).
func ThreadDump(locks bool) Request {
	if locks {
		return Request{Command: "threaddump", Args: []string{"-l"}}
	}
	return Request{Command: "threaddump"}
}

// HeapDump writes an HPROF heap dump to path, a path as the JVM sees it;
// live dumps only reachable objects (after a full GC).
func HeapDump(path string, live bool) Request {
	return Request{Command: "dumpheap", Args: []string{path, liveArg(live)}}
}

// ClassHistogram is the class histogram jmap -histo asks for.
func ClassHistogram(live bool) Request {
	return Request{Command: "inspectheap", Args: []string{liveArg(live)}}
}

// SystemProperties are the JVM's system properties in properties-file form.
func SystemProperties() Request { return Request{Command: "properties"} }

// AgentProperties are the properties the JVM keeps for agents (e.g. the
// local JMX connector address once the management agent runs).
func AgentProperties() Request { return Request{Command: "agentProperties"} }

func liveArg(live bool) string {
	if live {
		return "-live"
	}
	return "-all"
}
