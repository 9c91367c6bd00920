import CShims
public enum TransportPlaceholder {}
