import ETCore
@testable import ETONNX
import Foundation
import XCTest

/// Corrupt, truncated and unsupported models give an `ONNXError` that names the file (and the
/// node and op where one is at fault), never a crash.
final class BadModelTests: XCTestCase {
    func expectError(_ path: String, contains parts: [String], file: StaticString = #filePath, line: UInt = #line) {
        do {
            let m = try ONNXModel(path: path)
            // Some faults only show once shapes are known.
            let shapes = Dictionary(uniqueKeysWithValues: m.inputs.map { ($0.name, $0.shape!.map { d -> Int in if case let .value(v) = d { return v }; return 1 }) })
            _ = try ExecutionPlan(model: m, inputShapes: shapes)
            XCTFail("\(path) loaded and planned, expected an error containing \(parts)", file: file, line: line)
        } catch let e as ONNXError {
            for p in parts {
                XCTAssertTrue(e.message.contains(p), "error «\(e.message)» should mention «\(p)»", file: file, line: line)
            }
        } catch {
            XCTFail("unexpected error type \(error)", file: file, line: line)
        }
    }

    func testRejectedModelsNameFileNodeAndOp() throws {
        let bad = try Fixtures.badModels.get()
        expectError(bad["unsupported_op"]!, contains: ["unsupported_op.onnx", "Resize", "the_resize", "unsupported ops"])
        expectError(bad["old_opset"]!, contains: ["old_opset.onnx", "opset 3"])
        expectError(bad["custom_domain"]!, contains: ["custom_domain.onnx", "Foo", "com.example", "foo"])
        expectError(bad["missing_input"]!, contains: ["missing_input.onnx", "add_missing", "nowhere"])
        expectError(bad["bad_weight_shape"]!, contains: ["bad_weight_shape.onnx", "conv_bad", "bias"])
        expectError(bad["wrong_channels"]!, contains: ["wrong_channels.onnx", "conv_ch", "channels"])
    }

    func testMissingEmptyAndNonONNXFiles() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("etrack-bad-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        expectError(dir.appendingPathComponent("nope.onnx").path, contains: ["nope.onnx", "cannot open"])
        let empty = dir.appendingPathComponent("empty.onnx")
        try Data().write(to: empty)
        expectError(empty.path, contains: ["empty.onnx", "empty"])
        let text = dir.appendingPathComponent("text.onnx")
        try Data("this is not a model at all\n".utf8).write(to: text)
        expectError(text.path, contains: ["text.onnx"])
        expectError(dir.path, contains: [dir.lastPathComponent])
    }

    /// Every prefix of a real model (at many cut points) fails cleanly.
    func testTruncatedRealModelsFailCleanly() throws {
        let path = Fixtures.model("nanotrack-v2", "head.onnx")
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        var cuts = Array(stride(from: 1, to: bytes.count, by: max(1, bytes.count / 97)))
        cuts += [bytes.count - 1, bytes.count - 2, bytes.count - 100]
        for cut in cuts {
            XCTAssertThrowsError(try ONNXModel(data: Array(bytes[..<cut]), name: "head-cut-\(cut).onnx")) { e in
                XCTAssertTrue("\(e)".contains("head-cut-\(cut).onnx"), "\(e)")
            }
        }
    }

    /// Random byte corruption either loads (and plans) or throws: it never traps.
    func testCorruptedBytesNeverCrash() throws {
        let path = Fixtures.model("nanotrack-v1", "head.onnx")
        let original = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        var rng = SystemRandomNumberGenerator()
        var loaded = 0, rejected = 0
        for trial in 0..<150 {
            var bytes = original
            // Corrupt the structure part (node/graph headers live outside the big weight blobs).
            for _ in 0..<(1 + trial % 4) {
                let i = Int.random(in: 0..<bytes.count, using: &rng)
                bytes[i] = UInt8.random(in: 0...255, using: &rng)
            }
            do {
                let m = try ONNXModel(data: bytes, name: "corrupt.onnx")
                _ = try? ExecutionPlan(model: m, inputShapes: ["input1": [1, 48, 8, 8], "input2": [1, 48, 16, 16]])
                loaded += 1
            } catch let e as ONNXError {
                XCTAssertTrue(e.message.contains("corrupt.onnx"), e.message)
                rejected += 1
            }
        }
        XCTAssertEqual(loaded + rejected, 150)
    }
}
