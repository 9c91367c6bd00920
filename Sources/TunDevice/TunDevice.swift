// Linux TUN device: open, configure, batched packet reads and writes.
// Arrives with the connect issue; this module is a placeholder until then.
enum TunDeviceModule {}
