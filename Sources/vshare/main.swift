import Console
import Glibc
import Transport
import Wire

/// The CLI: parse arguments into a role's config, run the role, map the outcome to an exit status.
enum CLI {
    static let usage = """
    vshare \(VShareVersion.string): share a running machine with anyone, through a relay.

    usage: vshare <command> [options]
      relay     run the relay server that public URLs and agents connect to
      share     share the machine next to you (its web server gets a public URL)
      connect   reach a shared machine: a static IP for all its ports, and a SOCKS5 proxy
      shares    list the relay's live shares (through its web API)
      expire    end a live share now (through the relay's web API)
      logs      print a share's access log, and follow it (through the relay's web API)
      version   print the version
    Run `vshare <command> --help` for a command's options.
    """

    static func usageError(_ error: Error, _ usage: String) -> Int32 {
        Console.error("error: \(error)\n\n\(usage)")
        return 2
    }

    static func main() -> Int32 {
        Environment.withholdSecrets()
        Console.chooseStatusStream()
        var arguments = Array(CommandLine.arguments.dropFirst())
        guard let command = arguments.first else {
            Console.error(usage)
            return 2
        }
        arguments.removeFirst()
        if arguments.contains("--help") || arguments.contains("-h") {
            switch command {
            case "relay": Console.out(RelayCommand.usage)
            case "share": Console.out(ShareCommand.usage)
            case "connect": Console.out(ConnectCommand.usage)
            case "shares": Console.out(AdminCommands.sharesUsage)
            case "expire": Console.out(AdminCommands.expireUsage)
            case "logs": Console.out(LogsCommand.usage)
            default: Console.out(usage)
            }
            return 0
        }
        switch command {
        case "relay": return RelayCommand.run(arguments)
        case "share": return ShareCommand.run(arguments)
        case "connect": return ConnectCommand.run(arguments)
        case "shares": return AdminCommands.shares(arguments)
        case "expire": return AdminCommands.expire(arguments)
        case "logs": return LogsCommand.run(arguments)
        case "version", "--version": Console.out("vshare \(VShareVersion.string)"); return 0
        case "help", "--help", "-h": Console.out(usage); return 0
        default:
            Console.error("error: unknown command '\(command)'\n\n\(usage)")
            return 2
        }
    }
}

exit(CLI.main())
