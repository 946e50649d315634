import Foundation

/// Path-name arithmetic on strings, as NSString's path methods do it, without NSString: on Linux,
/// swift-corelibs-foundation's `NSString.lastPathComponent` and friends crash on a path holding
/// "//" followed by a non-ASCII character (e.g. "out//vidéo.mp4"; found by the `arguments` fuzz
/// target, Fuzz/README.md), and `deletingLastPathComponent` crashes on a bare name ("b"). Every
/// path a user gives goes through these instead. Unlike NSString they keep a doubled slash inside
/// a path as it is.
extension StringProtocol {
    /// The path without trailing slashes ("/" stays "/").
    private var trimmedPath: Substring {
        var s = Substring(self)
        while s.count > 1, s.hasSuffix("/") { s = s.dropLast() }
        return s
    }

    /// "a/b.txt" → "b.txt"; "a/b/" → "b"; "/" → "/".
    public var pathLastComponent: String {
        let s = trimmedPath
        if s == "/" { return "/" }
        guard let slash = s.lastIndex(of: "/") else { return String(s) }
        return String(s[s.index(after: slash)...])
    }

    /// "a/b.txt" → "a"; "/a" → "/"; "b" → "".
    public var pathDeletingLastComponent: String {
        let s = trimmedPath
        if s == "/" { return "/" }
        guard let slash = s.lastIndex(of: "/") else { return "" }
        var head = s[..<slash]
        while head.count > 1, head.hasSuffix("/") { head = head.dropLast() }
        return head.isEmpty ? "/" : String(head)
    }

    /// "a/b.tar.gz" → "gz"; ".hidden" → ""; "a/b" → "".
    public var pathExtensionName: String {
        let last = pathLastComponent
        guard let dot = last.lastIndex(of: "."), dot != last.startIndex else { return "" }
        return String(last[last.index(after: dot)...])
    }

    /// "a/b.txt" → "a/b"; "a/b" → "a/b".
    public var pathDeletingExtension: String {
        let ext = pathExtensionName
        let s = String(trimmedPath)
        return ext.isEmpty ? s : String(s.dropLast(ext.count + 1))
    }

    /// "a" + "b" → "a/b"; "a/" + "b" → "a/b"; "" + "b" → "b".
    public func pathAppending(_ component: String) -> String {
        if isEmpty { return component }
        return hasSuffix("/") ? String(self) + component : String(self) + "/" + component
    }
}

extension String {
    /// The path made absolute against the working directory, with `.` and `..` removed: what a
    /// run records, or a link points to, so that it means the same from any directory.
    public var absolutePath: String { URL(fileURLWithPath: self).standardizedFileURL.path }
}
