/// The one rule for function (and tenant) names: they appear in URLs, file names and metrics.
public enum FunctionName {
    public static let rule = "must be 1-63 lowercase letters, digits or '-', starting with a letter"

    public static func isValid(_ s: String) -> Bool {
        s.count <= 63 && (s.first.map { $0.isASCII && $0.isLetter } ?? false)
            && s.allSatisfy { ($0.isASCII && ($0.isLowercase || $0.isNumber)) || $0 == "-" }
    }
}
