/// One metric and its samples, as Prometheus scrapes them (text exposition format 0.0.4):
/// `# HELP`, `# TYPE`, then one `name{label="value"} number` line per sample.
public struct MetricFamily: Equatable, Sendable {
    public enum Kind: String, Sendable {
        /// Only goes up (restarts reset it): totals such as requests served.
        case counter
        /// Goes up and down: what is open or live now.
        case gauge
    }

    public struct Sample: Equatable, Sendable {
        public var labels: [(name: String, value: String)]
        public var value: Double

        public init(_ value: Double, labels: [(name: String, value: String)] = []) {
            self.labels = labels
            self.value = value
        }

        public static func == (a: Sample, b: Sample) -> Bool {
            a.value == b.value && a.labels.map(\.name) == b.labels.map(\.name) && a.labels.map(\.value) == b.labels.map(\.value)
        }
    }

    public var name: String
    public var help: String
    public var kind: Kind
    public var samples: [Sample]

    public init(_ name: String, _ kind: Kind, help: String, samples: [Sample]) {
        self.name = name
        self.help = help
        self.kind = kind
        self.samples = samples
    }

    /// A family of one unlabelled sample.
    public init(_ name: String, _ kind: Kind, help: String, value: Double) {
        self.init(name, kind, help: help, samples: [Sample(value)])
    }
}
