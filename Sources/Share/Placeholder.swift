public enum SharePlaceholder {}
