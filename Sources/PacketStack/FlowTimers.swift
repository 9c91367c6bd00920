import Wire

/// The stack's flow deadlines, in the project's one timer heap. Entries are lazy: a flow registers a
/// deadline only when its earliest timer moves earlier than what it already has in the heap; when an
/// entry comes due the stack checks the flow's real timers and re-registers. So restarting a timer
/// later (every ACK restarts the RTO) costs nothing.
typealias FlowTimers = DeadlineHeap<FlowID>
