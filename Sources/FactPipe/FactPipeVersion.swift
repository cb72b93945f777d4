/// The version of this build of factpipe.
public enum FactPipeVersion {
    public static let current = "0.1.0"
}
