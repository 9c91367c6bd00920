// A pure userspace IPv4 stack (TCP, UDP, ICMP echo) that terminates flows at the machine IP.
// Arrives with the connect issue; this module is a placeholder until then.
enum PacketStackModule {}
