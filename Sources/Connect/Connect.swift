// `vshare connect`: the peer's side (TUN interface with the machine IP, SOCKS5).
// Arrives with the connect issue; this module is a placeholder until then.
enum ConnectModule {}
