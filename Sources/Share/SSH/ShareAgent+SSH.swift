import Console
import Transport

extension ShareAgent {
    /// Key, password, insertion; false (after saying why) when the share cannot start.
    func prepareSSH() -> Bool {
        guard let options = config.ssh else { return true }
        do {
            let setup = try SSHShareSetup(options: options, target: config.target, label: config.machineName)
            sshSetup = setup
            try setup.prepare()
            return true
        } catch {
            Console.error("error: \(error)")
            sshSetup?.cleanUp()
            return false
        }
    }

    func checkSSH() -> Bool {
        do {
            try sshSetup?.check()
            return true
        } catch {
            Console.error("error: \(error)")
            sshSetup?.cleanUp()
            return false
        }
    }

    /// A connect peer's flow through the machine IP dialed `port` of the machine: a login to the SSH
    /// port with the released key uses the one-time key up just as an SSH stream does. (There is no
    /// stream to watch end here, so the key goes after `onceRemovalDelay`; the session survives it.)
    func machinePortDialed(_ port: UInt16) {
        guard let setup = sshSetup, port == setup.options.port, setup.armOnce() else { return }
        Console.detail(config.machineName, "The one-time SSH session has started (through the machine IP); the key will be removed from the machine.")
        loop.schedule(after: setup.options.onceRemovalDelay) { setup.removeInBackground() }
    }

    /// `--ssh-once`: the first SSH stream of a session is connecting; the key leaves the machine
    /// when that stream ends or `onceRemovalDelay` seconds later, whichever comes first.
    func sshOnceStarted(_ setup: SSHShareSetup, bridge: StreamSocketBridge) {
        Console.detail(config.machineName, "The one-time SSH session has started; the key will be removed from the machine.")
        let previous = bridge.onClose
        bridge.onClose = { previous?(); setup.removeInBackground() }
        loop.schedule(after: setup.options.onceRemovalDelay) { setup.removeInBackground() }
    }
}
