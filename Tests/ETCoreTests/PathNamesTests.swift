import ETCore
import Foundation
import XCTest

final class PathNamesTests: XCTestCase {
    /// The same answers as NSString's path methods on paths NSString handles (it also collapses "//", which we keep).
    func testMatchesNSStringOnASCIIPaths() {
        for p in ["a/b.txt", "/a/b.txt", "a/b/", "", "/", "./x.tar.gz", ".hidden", "a/.hidden", "dir/seq_time.txt", "a.b/c", "/a"] {
            let ns = p as NSString
            XCTAssertEqual(p.pathLastComponent, ns.lastPathComponent, "last of '\(p)'")
            XCTAssertEqual(p.pathDeletingLastComponent, ns.deletingLastPathComponent, "head of '\(p)'")
            XCTAssertEqual(p.pathExtensionName, ns.pathExtension, "extension of '\(p)'")
            XCTAssertEqual(p.pathDeletingExtension, ns.deletingPathExtension, "stem of '\(p)'")
            XCTAssertEqual(p.pathAppending("c.txt"), ns.appendingPathComponent("c.txt"), "'\(p)' + c.txt")
        }
    }

    /// NSString crashes on Linux for these (the fuzzer's find; and `deletingLastPathComponent` of
    /// a bare name); the helpers do not.
    func testPathsNSStringCrashesOn() {
        XCTAssertEqual("b.txt".pathDeletingLastComponent, "")
        XCTAssertEqual("b.txt".pathLastComponent, "b.txt")
        XCTAssertEqual("b".pathAppending("c.txt"), "b/c.txt")
        XCTAssertEqual("out//vidéo.mp4".pathLastComponent, "vidéo.mp4")
        XCTAssertEqual("out//vidéo.mp4".pathDeletingLastComponent, "out")
        XCTAssertEqual("//é".pathLastComponent, "é")
        XCTAssertEqual("a//é.txt".pathDeletingExtension, "a//é")
        XCTAssertEqual("a//é.txt".pathExtensionName, "txt")
    }
}
