import ETData
import Foundation
import XCTest
@testable import ETEvaluation
import ETTracking

/// A fresh temporary folder per test, removed afterwards.
final class TempDir {
    let path: String
    init() {
        path = NSTemporaryDirectory() + "etrack-eval-" + UUID().uuidString
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }
    deinit { try? FileManager.default.removeItem(atPath: path) }

    func file(_ rel: String, _ text: String) {
        let p = path + "/" + rel
        try! FileManager.default.createDirectory(atPath: (p as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try! text.write(toFile: p, atomically: true, encoding: .utf8)
    }

    func dir(_ rel: String) {
        try! FileManager.default.createDirectory(atPath: path + "/" + rel, withIntermediateDirectories: true)
    }

    /// A folder-layout sequence with `frames` empty .jpg files and the given ground-truth text.
    func folderSequence(_ name: String, frames: Int, gt: String?, absent: String? = nil, ext: String = "jpg") {
        dir("\(name)/img")
        for i in 1...max(frames, 1) where frames > 0 {
            file("\(name)/img/\(String(format: "%08d", i)).\(ext)", "")
        }
        if let gt { file("\(name)/groundtruth.txt", gt) }
        if let absent { file("\(name)/absent.txt", absent) }
    }
}

func boxes(_ rows: [[Double]]) -> [BoundingBox?] {
    rows.map { r in r.contains(where: { $0.isNaN }) ? nil : BoundingBox(x: r[0], y: r[1], width: r[2], height: r[3]) }
}

func XCTAssertThrowsMessage<T>(_ expr: @autoclosure () throws -> T, contains needles: [String], file: StaticString = #filePath, line: UInt = #line) {
    do {
        _ = try expr()
        XCTFail("expected an error containing \(needles)", file: file, line: line)
    } catch {
        let text = "\(error)"
        for n in needles where !text.contains(n) {
            XCTFail("error '\(text)' does not contain '\(n)'", file: file, line: line)
        }
    }
}
