import ETImage
import Foundation
import XCTest

final class ImageIOTests: XCTestCase {
    static let frame = "/work/shared/data/sequences/OTB_Crossing/img/00000001.jpg"
    var temp: URL!

    override func setUpWithError() throws {
        temp = FileManager.default.temporaryDirectory.appendingPathComponent("etimage-io-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: temp, withIntermediateDirectories: true)
    }

    override func tearDown() { try? FileManager.default.removeItem(at: temp) }

    func path(_ name: String) -> String { temp.appendingPathComponent(name).path }

    /// Both decoders are libjpeg-turbo with default settings (accurate IDCT, fancy upsampling).
    func testJPEGMatchesCV2Imread() throws {
        try XCTSkipUnless(FileManager.default.fileExists(atPath: Self.frame), "shared frame not present")
        try ReferenceRunner.requireOpenCV()
        let mine = try ImageIO.read(path: Self.frame)
        XCTAssertEqual(mine.width, 360)
        XCTAssertEqual(mine.height, 240)
        XCTAssertEqual(mine.channels, 3)
        let ref = try ReferenceRunner()
        ref.add(["op": "imread", "path": Self.frame, "out": "img.u8", "meta": "meta.json"])
        try ref.run()
        let (maxDiff, count) = compare(mine.pixels, try ref.raw("img.u8"))
        XCTAssertEqual(count, 0, "\(Self.frame): \(count) bytes differ from cv2.imread, max diff \(maxDiff)")
    }

    func testPNGRoundTripAllChannelCounts() throws {
        var rng = SplitMix64(seed: 11)
        for c in 1...4 {
            let img = randomImage(width: 37, height: 23, channels: c, rng: &rng)
            let file = path("rt\(c).png")
            try ImageIO.write(img, to: file)
            let back = try ImageIO.read(path: file)
            XCTAssertEqual(back.channels, 3, "channels=\(c)")
            XCTAssertEqual(back.width, 37)
            XCTAssertEqual(back.height, 23)
            for i in 0..<(37 * 23) {
                for k in 0..<3 {
                    // grey (+alpha) is replicated; alpha is dropped
                    let expected = c <= 2 ? img.pixels[i * c] : img.pixels[i * c + k]
                    if back.pixels[i * 3 + k] != expected {
                        XCTFail("PNG round trip channels=\(c): pixel \(i) channel \(k) is \(back.pixels[i * 3 + k]), expected \(expected)")
                        return
                    }
                }
            }
        }
    }

    func testSixteenBitPNGCloseToCV2() throws {
        try ReferenceRunner.requireOpenCV()
        let ref = try ReferenceRunner()
        let file = path("16.png")
        ref.add(["op": "png16", "fw": 41, "fh": 19, "seed": 5, "path": file, "out": "png16.u8"])
        try ref.run()
        let mine = try ImageIO.read(path: file)
        let (maxDiff, count) = compare(mine.pixels, try ref.raw("png16.u8"))
        XCTAssertLessThanOrEqual(maxDiff, 1, "16-bit PNG vs cv2.imread: max diff \(maxDiff), \(count) bytes differ")
    }

    func testJPEGWriteReadBack() throws {
        var img = Image(width: 64, height: 48, channels: 3, fill: 0)
        for y in 0..<48 { for x in 0..<64 { img.pixels[(y * 64 + x) * 3] = UInt8(x * 4); img.pixels[(y * 64 + x) * 3 + 1] = UInt8(y * 5) } }
        let file = path("w.jpg")
        try ImageIO.write(img, to: file, quality: 95)
        let back = try ImageIO.read(path: file)
        XCTAssertEqual(back.width, 64)
        XCTAssertEqual(back.height, 48)
        let (maxDiff, _) = compare(img.pixels, back.pixels)
        XCTAssertLessThan(maxDiff, 16, "JPEG q95 round trip max diff \(maxDiff)")
    }

    // MARK: failures name the file

    func assertError(_ file: String, _ body: () throws -> Void, line: UInt = #line) {
        XCTAssertThrowsError(try body(), line: line) { error in
            XCTAssertTrue("\(error)".contains(file), "error '\(error)' does not name \(file)", line: line)
        }
    }

    func testMissingFile() {
        let file = path("nope.jpg")
        assertError(file) { _ = try ImageIO.read(path: file) }
    }

    func testTruncatedAndCorruptJPEG() throws {
        try XCTSkipUnless(FileManager.default.fileExists(atPath: Self.frame), "shared frame not present")
        let bytes = try Data(contentsOf: URL(fileURLWithPath: Self.frame))
        for (name, data) in [("half.jpg", bytes.prefix(bytes.count / 2)), ("head.jpg", bytes.prefix(300)),
                             ("magic.jpg", bytes.prefix(3))] {
            let file = path(name)
            try Data(data).write(to: URL(fileURLWithPath: file))
            assertError(file) { _ = try ImageIO.read(path: file) }
        }
        var garbled = bytes
        for i in stride(from: 700, to: garbled.count - 2, by: 3) { garbled[i] = 0xFF }
        let file = path("garbled.jpg")
        try garbled.write(to: URL(fileURLWithPath: file))
        assertError(file) { _ = try ImageIO.read(path: file) }
    }

    func testTruncatedPNGEmptyAndUnknownFiles() throws {
        var rng = SplitMix64(seed: 2)
        let png = try ImageIO.encode(randomImage(width: 50, height: 40, channels: 3, rng: &rng), format: .png)
        let cases: [(String, Data)] = [("cut.png", png.prefix(png.count / 2)), ("empty.png", Data()),
                                       ("text.png", Data("hello, not an image".utf8))]
        for (name, data) in cases {
            let file = path(name)
            try data.write(to: URL(fileURLWithPath: file))
            assertError(file) { _ = try ImageIO.read(path: file) }
        }
        assertError("buffer-name") { _ = try ImageIO.decode(data: png.prefix(100), name: "buffer-name") }
    }

    /// A header that claims a huge frame is refused before anything is allocated (it used to ask
    /// for width·height·3 bytes first): PNG via its IHDR, JPEG via its SOF0 segment.
    func testHeadersClaimingHugeFramesAreRefused() throws {
        var rng = SplitMix64(seed: 3)
        var png = [UInt8](try ImageIO.encode(randomImage(width: 8, height: 8, channels: 3, rng: &rng), format: .png))
        // IHDR data starts at byte 16: width, height (big-endian), then the chunk's CRC at 29.
        for (k, v) in [(16, 60000), (20, 60000)] { for b in 0..<4 { png[k + b] = UInt8((v >> (24 - 8 * b)) & 255) } }
        let crc = crc32(png[12..<29])
        for b in 0..<4 { png[29 + b] = UInt8((crc >> (24 - 8 * UInt32(b))) & 255) }
        var jpeg = [UInt8](try ImageIO.encode(randomImage(width: 8, height: 8, channels: 3, rng: &rng), format: .jpeg))
        let sof = (0..<jpeg.count - 1).first { jpeg[$0] == 0xFF && (jpeg[$0 + 1] == 0xC0 || jpeg[$0 + 1] == 0xC2) }!
        for b in 0..<2 { jpeg[sof + 5 + b] = 0xEA; jpeg[sof + 7 + b] = 0xEA }  // 60138 x 60138
        for (name, bytes) in [("huge.png", png), ("huge.jpg", jpeg)] {
            XCTAssertThrowsError(try ImageIO.decode(data: Data(bytes), name: name), name) { error in
                XCTAssertTrue("\(error)".contains("more than the \(ImageIO.maxPixels) a frame may have") && "\(error)".contains(name), "\(error)")
            }
        }
    }

    func crc32(_ bytes: ArraySlice<UInt8>) -> UInt32 {
        var c: UInt32 = 0xFFFF_FFFF
        for byte in bytes {
            c ^= UInt32(byte)
            for _ in 0..<8 { c = c & 1 == 1 ? (c >> 1) ^ 0xEDB8_8320 : c >> 1 }
        }
        return ~c
    }

    func testWriteErrors() {
        let img = Image(width: 4, height: 4, channels: 3)
        let bad = path("x.bmp")
        assertError(bad) { try ImageIO.write(img, to: bad) }
        let noDir = path("missing/dir/x.png")
        assertError(noDir) { try ImageIO.write(img, to: noDir) }
    }
}
