import ETCore
import ETNN
import Foundation
import XCTest

final class WeightsSafeTensorsTests: XCTestCase {
    typealias F = WeightsFixtures

    func sample() -> SafeTensors {
        var g = SeededGenerator(seed: 1)
        return SafeTensors(tensors: [
            "blocks.1.mlp.fc1.weight": ParameterInit.vitDefault.tensor([8, 4], generator: &g),
            "blocks.0.norm1.bias": ParameterInit.zeros.tensor([4], generator: &g),
            "cls_token": ParameterInit.uniform(low: -1, high: 1).tensor([1, 1, 4], generator: &g),
            "scalar": Tensor(shape: [], data: [0.5]),
            "empty": Tensor(zeros: [0, 3]),
            "ünï \"quoted\"\n": Tensor(shape: [2], data: [1, -1]),
        ], metadata: ["config": "et-128-fgaf3-bn", "seed": "1", "tab\tand\u{1}": "ü\\"])
    }

    func testRoundTripInMemoryAndOnDisk() throws {
        let s = sample()
        let bytes = try s.serialized()
        let back = try SafeTensors(data: bytes)
        XCTAssertEqual(back.tensors, s.tensors)
        XCTAssertEqual(back.metadata, s.metadata)
        XCTAssertEqual(back.names, ["blocks.0.norm1.bias", "blocks.1.mlp.fc1.weight", "cls_token", "empty", "scalar", "ünï \"quoted\"\n"])

        let dir = try F.temporaryDirectory("st")
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("w.safetensors").path
        try s.write(to: path)
        let read = try SafeTensors(contentsOf: path)
        XCTAssertEqual(read.tensors, s.tensors)
        XCTAssertEqual(read.source, path)
    }

    func testBytesAreStableAndAligned() throws {
        let s = sample()
        var shuffled = SafeTensors(metadata: s.metadata)
        for name in s.names.reversed() { shuffled[name] = s[name] }
        XCTAssertEqual(try s.serialized(), try shuffled.serialized(), "insertion order must not change the bytes")
        let bytes = try s.serialized()
        let n = bytes.withUnsafeBytes { Int(UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self))) }
        XCTAssertEqual(n % 8, 0, "header padded to 8 bytes")
        let header = String(decoding: bytes[8..<(8 + n)], as: UTF8.self)
        XCTAssertTrue(header.hasPrefix("{\"__metadata__\":{\"config\":\"et-128-fgaf3-bn\",\"seed\":\"1\",\"tab\\tand\\u0001\":\"ü\\\\\"},\"blocks.0.norm1.bias\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}"), header)
    }

    func testFloat16BFloat16AndFloat64AreConverted() throws {
        // Every half-precision bit pattern against Swift's own conversion.
        #if !((os(macOS) || targetEnvironment(macCatalyst)) && arch(x86_64))
        var halves = [UInt8]()
        for h in 0...UInt16.max where !Float(Float16(bitPattern: h)).isNaN {
            withUnsafeBytes(of: h.littleEndian) { halves.append(contentsOf: $0) }
        }
        let count = halves.count / 2
        let file = F.file(header: "{\"h\":{\"dtype\":\"F16\",\"shape\":[\(count)],\"data_offsets\":[0,\(halves.count)]}}", data: halves)
        let h = try XCTUnwrap(SafeTensors(data: file, allowNonFinite: true)["h"])
        var k = 0
        for bits in 0...UInt16.max where !Float(Float16(bitPattern: bits)).isNaN {
            XCTAssertEqual(h.data[k].bitPattern, Float(Float16(bitPattern: bits)).bitPattern, "half 0x\(String(bits, radix: 16))")
            k += 1
        }
        #endif
        let f: [Float] = [1, -2.5, 0.15625, 3e38]
        var bf = [UInt8](), f64 = [UInt8]()
        for v in f {
            withUnsafeBytes(of: UInt16(v.bitPattern >> 16).littleEndian) { bf.append(contentsOf: $0) }
            withUnsafeBytes(of: Double(v).bitPattern.littleEndian) { f64.append(contentsOf: $0) }
        }
        let file2 = F.file(header: "{\"b\":{\"dtype\":\"BF16\",\"shape\":[2,2],\"data_offsets\":[0,8]},\"d\":{\"dtype\":\"F64\",\"shape\":[4],\"data_offsets\":[8,40]}}",
                           data: bf + f64)
        let s = try SafeTensors(data: file2)
        XCTAssertEqual(s["b"]?.shape, [2, 2])
        XCTAssertEqual(s["b"]?.data, f.map { Float(bitPattern: $0.bitPattern & 0xffff_0000) })
        XCTAssertEqual(s["d"]?.data, f)
    }

    /// Each malformed file gives an error naming the source and, where one is concerned, the tensor.
    func testBadFilesGiveClearErrors() throws {
        let good = "{\"x\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,24]}}"
        let data = F.bytes([0, 1, 2, 3, 4, 5])
        func message(_ bytes: [UInt8], allowNonFinite: Bool = false) -> String {
            do { _ = try SafeTensors(data: bytes, source: "w.safetensors", allowNonFinite: allowNonFinite); return "no error" } catch { return "\(error)" }
        }
        func entry(_ body: String, _ data: [UInt8]) -> [UInt8] { F.file(header: "{\(body)}", data: data) }
        XCTAssertEqual(message(F.file(header: good, data: data)), "no error")
        let cases: [(String, [UInt8], String)] = [
            ("empty", [], "w.safetensors: truncated file: 0 bytes, but a safetensors file starts with an 8-byte header length"),
            ("short header", Array(F.file(header: good, data: data).prefix(20)), "w.safetensors: truncated file: the header should have 57 bytes but only 12 follow the length"),
            ("huge header", F.file(header: good, data: data, declaredHeaderLength: 1 << 40), "header length 1099511627776 is implausible"),
            ("not json", F.file(header: "{\"x\": oops}", data: []), "w.safetensors: bad header: not valid JSON"),
            ("not object", F.file(header: "[1, 2]", data: []), "bad header: it does not start with a JSON object"),
            ("entry not object", entry("\"x\":3", []), "bad header: tensor 'x': entry is not an object"),
            ("no dtype", entry("\"x\":{\"shape\":[1],\"data_offsets\":[0,4]}", F.bytes([1])), "bad header: tensor 'x': missing \"dtype\""),
            ("unknown dtype", entry("\"x\":{\"dtype\":\"F31\",\"shape\":[1],\"data_offsets\":[0,4]}", F.bytes([1])), "tensor 'x': unknown dtype 'F31'"),
            ("negative dim", entry("\"x\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}", F.bytes([1])), "tensor 'x': \"shape\" is not a list of non-negative integers"),
            ("fractional dim", entry("\"x\":{\"dtype\":\"F32\",\"shape\":[1.5],\"data_offsets\":[0,4]}", F.bytes([1])), "tensor 'x': \"shape\" is not a list"),
            ("one offset", entry("\"x\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4]}", F.bytes([1])), "tensor 'x': \"data_offsets\" is not a pair"),
            ("truncated data", F.file(header: good, data: Array(data.prefix(20))), "w.safetensors: tensor 'x': data_offsets [0, 24] run past the end of the data (20 bytes; truncated file?)"),
            ("shape vs size", entry("\"x\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,24]}", data), "w.safetensors: tensor 'x': shape [2, 2] of F32 needs 16 bytes but data_offsets [0, 24] hold 24"),
            ("reversed", entry("\"x\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[8,4]}", F.bytes([1, 2])), "tensor 'x': data_offsets [8, 4] end before they begin"),
            ("overlap", entry("\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]},\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,16]}", F.bytes([1, 2, 3, 4])),
             "w.safetensors: tensors 'a' (data_offsets [0, 16]) and 'b' (data_offsets [8, 16]) overlap"),
            ("hole", entry("\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,12]}", F.bytes([1, 2, 3])),
             "the data has 4 bytes at offset 4 that no tensor owns (before 'b'"),
            ("trailing", F.file(header: good, data: data + [0, 0]), "the data has 2 bytes at offset 24 that no tensor owns"),
            ("integer dtype", entry("\"i\":{\"dtype\":\"I64\",\"shape\":[1],\"data_offsets\":[0,8]}", F.bytes([0, 0])), "tensor 'i': dtype I64 is not supported (F32, F16, BF16 and F64 are)"),
            ("metadata", entry("\"__metadata__\":{\"k\":1}", []), "bad header: __metadata__ value of 'k' is not a string"),
            ("nan", F.file(header: good, data: F.bytes([0, 1, .nan, 3, 4, 5])), "w.safetensors: tensor 'x' holds NaN at flat index 2 of shape [2, 3]"),
            ("inf", F.file(header: good, data: F.bytes([0, 1, 2, 3, 4, -.infinity])), "tensor 'x' holds -inf at flat index 5"),
        ]
        for (label, bytes, want) in cases {
            let got = message(bytes)
            XCTAssertTrue(got.contains(want) && got.hasPrefix("w.safetensors: "), "\(label): got \"\(got)\", want it to contain \"\(want)\"")
        }
        XCTAssertEqual(message(F.file(header: good, data: F.bytes([0, 1, .nan, 3, 4, 5])), allowNonFinite: true), "no error")
        XCTAssertThrowsError(try SafeTensors(contentsOf: "/nonexistent/w.safetensors")) {
            XCTAssertTrue("\($0)".hasPrefix("/nonexistent/w.safetensors: cannot read the weights file"), "\($0)")
        }
        // A real file cut short: the last tensor runs past the end.
        let whole = try sample().serialized()
        XCTAssertTrue(message(Array(whole.dropLast(4))).contains("tensor 'ünï \"quoted\"\n': data_offsets [164, 172] run past the end of the data (168 bytes"),
                      message(Array(whole.dropLast(4))))
    }

    func testWriteErrors() throws {
        let reserved = SafeTensors(tensors: ["__metadata__": Tensor(zeros: [1])])
        XCTAssertThrowsError(try reserved.serialized()) { XCTAssertTrue("\($0)".contains("cannot write a tensor named '__metadata__'"), "\($0)") }
        XCTAssertThrowsError(try reserved.write(to: "/tmp/x.safetensors")) { XCTAssertTrue("\($0)".hasPrefix("/tmp/x.safetensors: cannot write a tensor"), "\($0)") }
        XCTAssertThrowsError(try sample().write(to: "/nonexistent/w.safetensors")) {
            XCTAssertTrue("\($0)".hasPrefix("/nonexistent/w.safetensors: cannot write the weights file"), "\($0)")
        }
    }

    func testCheckAgainstConfiguration() throws {
        var s = SafeTensors(tensors: ["a": Tensor(zeros: [2, 3]), "b": Tensor(zeros: [4]), "extra": Tensor(zeros: [1])], source: "w.safetensors")
        XCTAssertThrowsError(try s.check(against: [("a", [3, 2]), ("b", [4]), ("c", [5])], configuration: "et-128-vit3")) {
            XCTAssertEqual("\($0)", "w.safetensors: does not fit et-128-vit3: tensor 'a': expected shape [3, 2], found [2, 3]; "
                + "missing tensor 'c' (expected shape [5]); unexpected tensor 'extra' (shape [1])")
        }
        XCTAssertNoThrow(try s.check(against: [("a", [2, 3]), ("b", [4])], configuration: "x", allowUnexpected: true))
        s["extra"] = nil
        XCTAssertNoThrow(try s.check(against: [("a", [2, 3]), ("b", [4])], configuration: "x"))
    }

    /// Files from the `safetensors` package load in our reader, and ours load in it (byte for
    /// byte identical when re-saved, for F32 with one metadata key).
    func testAgainstSafetensorsPackage() throws {
        let script = F.repoRoot.appendingPathComponent("scripts/reference/writer_safetensors.py").path
        let dir = try F.temporaryDirectory("st-py")
        defer { try? FileManager.default.removeItem(at: dir) }
        let w = try F.run(["python3", script, "write", dir.path])
        // safetensors is pinned in scripts/requirements-reference.txt (0.8.0); missing is a failure, not a skip.
        guard w.status == 0 else { return XCTFail("writer_safetensors.py failed (exit \(w.status); run scripts/setup.sh): " + w.stdout + w.stderr) }
        let expected = try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("expected.json"))) as! [String: [String: Any]]
        XCTAssertEqual(Set(expected.keys), ["mixed", "bf16", "f32_only"])
        for (file, want) in expected {
            let s = try SafeTensors(contentsOf: dir.appendingPathComponent("\(file).safetensors").path)
            XCTAssertEqual(s.metadata, want["metadata"] as? [String: String], file)
            let tensors = want["tensors"] as! [String: [String: Any]]
            XCTAssertEqual(Set(s.tensors.keys), Set(tensors.keys), file)
            for (name, t) in tensors {
                XCTAssertEqual(s[name]?.shape, (t["shape"] as! [NSNumber]).map(\.intValue), "\(file) \(name)")
                XCTAssertEqual(s[name]?.data, (t["values"] as! [NSNumber]).map { Float($0.doubleValue) }, "\(file) \(name)")
            }
        }

        // Ours → Python.
        var ours = sample()
        ours.metadata = ["format": "pt"]
        ours["ünï \"quoted\"\n"] = nil
        let path = dir.appendingPathComponent("ours.safetensors").path
        let rewritten = dir.appendingPathComponent("rewritten.safetensors").path
        try ours.write(to: path)
        let r = try F.run(["python3", script, "read", path, rewritten])
        XCTAssertEqual(r.status, 0, r.stderr)
        let got = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as! [String: Any]
        XCTAssertEqual(got["metadata"] as? [String: String], ["format": "pt"])
        let tensors = got["tensors"] as! [String: [String: Any]]
        XCTAssertEqual(Set(tensors.keys), Set(ours.names))
        for (name, t) in tensors {
            XCTAssertEqual(t["dtype"] as? String, "float32", name)
            XCTAssertEqual((t["shape"] as! [NSNumber]).map(\.intValue), ours[name]?.shape, name)
            XCTAssertEqual((t["values"] as! [NSNumber]).map { Float($0.doubleValue) }, ours[name]?.data, name)
        }
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: rewritten)), try Data(contentsOf: URL(fileURLWithPath: path)),
                       "safetensors.numpy.save_file writes the same tensors to different bytes")
    }
}
