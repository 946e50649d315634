import ETData
import XCTest
@testable import ETEvaluation
import ETTracking

final class FolderDatasetTests: XCTestCase {
    func testLoadsFramesBoxesAndAbsentFlags() throws {
        let t = TempDir()
        t.folderSequence("seq", frames: 3, gt: "1,2,3,4\r\n5\t6\t7\t8\nNaN,NaN,NaN,NaN\n\n", absent: "0\n0\n1\n")
        let s = try FolderDataset.loadSequence(at: t.path + "/seq")
        XCTAssertEqual(s.name, "seq")
        XCTAssertEqual(s.framePaths.map { ($0 as NSString).lastPathComponent }, ["00000001.jpg", "00000002.jpg", "00000003.jpg"])
        XCTAssertEqual(s.groundTruth, boxes([[1, 2, 3, 4], [5, 6, 7, 8], [.nan, .nan, .nan, .nan]]))
        XCTAssertEqual(s.absent, [false, false, true])
        XCTAssertEqual(s.initialBox, BoundingBox(x: 1, y: 2, width: 3, height: 4))
    }

    func testFramesAreInNaturalOrder() throws {
        let t = TempDir()
        t.dir("s/img")
        for n in ["10.png", "2.jpg", "1.JPG", "notes.txt", ".hidden.jpg"] { t.file("s/img/\(n)", "") }
        t.file("s/groundtruth.txt", "1,1,1,1\n1,1,1,1\n1,1,1,1\n")
        let s = try FolderDataset.loadSequence(at: t.path + "/s")
        XCTAssertEqual(s.framePaths.map { ($0 as NSString).lastPathComponent }, ["1.JPG", "2.jpg", "10.png"])
    }

    func testErrorsNameThePathAndLine() {
        let t = TempDir()
        XCTAssertThrowsMessage(try FolderDataset.loadSequence(at: t.path + "/nope"), contains: ["nope", "not found"])
        t.dir("noimg")
        XCTAssertThrowsMessage(try FolderDataset.loadSequence(at: t.path + "/noimg"), contains: ["noimg/img", "no img/ folder"])
        t.folderSequence("empty", frames: 0, gt: "1,1,1,1\n")
        XCTAssertThrowsMessage(try FolderDataset.loadSequence(at: t.path + "/empty"), contains: ["no .jpg"])
        t.folderSequence("nogt", frames: 2, gt: nil)
        XCTAssertThrowsMessage(try FolderDataset.loadSequence(at: t.path + "/nogt"), contains: ["nogt/groundtruth.txt", "not found"])
        t.folderSequence("bad", frames: 3, gt: "1,2,3,4\n1,2,3\n1,2,3,4\n")
        XCTAssertThrowsMessage(try FolderDataset.loadSequence(at: t.path + "/bad"), contains: ["bad/groundtruth.txt:2:", "expected 4 numbers"])
        t.folderSequence("word", frames: 1, gt: "1,2,x,4\n")
        XCTAssertThrowsMessage(try FolderDataset.loadSequence(at: t.path + "/word"), contains: ["groundtruth.txt:1:", "'x' is not a number"])
        t.folderSequence("short", frames: 3, gt: "1,2,3,4\n1,2,3,4\n")
        XCTAssertThrowsMessage(try FolderDataset.loadSequence(at: t.path + "/short"), contains: ["2 box line(s) but 3 frame(s)"])
        t.folderSequence("long", frames: 1, gt: "1,2,3,4\n1,2,3,4\n")
        XCTAssertThrowsMessage(try FolderDataset.loadSequence(at: t.path + "/long"), contains: ["2 box line(s) but 1 frame(s)"])
        t.folderSequence("abs", frames: 2, gt: "1,2,3,4\n1,2,3,4\n", absent: "0\n")
        XCTAssertThrowsMessage(try FolderDataset.loadSequence(at: t.path + "/abs"), contains: ["abs/absent.txt", "1 flag(s) but 2 frame(s)"])
        t.folderSequence("abs2", frames: 2, gt: "1,2,3,4\n1,2,3,4\n", absent: "0\n2\n")
        XCTAssertThrowsMessage(try FolderDataset.loadSequence(at: t.path + "/abs2"), contains: ["not 0 or 1"])
        t.folderSequence("nan0", frames: 1, gt: "nan,nan,nan,nan\n")
        XCTAssertThrowsMessage(try FolderDataset.loadSequence(at: t.path + "/nan0"), contains: ["groundtruth.txt:1:", "first frame"])
    }

    func testPrefixAndIgnoredPolicies() throws {
        let t = TempDir()
        t.folderSequence("first", frames: 3, gt: "1,2,3,4\n")
        let p = try FolderDataset.loadSequence(at: t.path + "/first", groundTruth: .prefix)
        XCTAssertEqual(p.count, 3)
        XCTAssertEqual(p.groundTruth.count, 1)
        t.folderSequence("none", frames: 2, gt: nil)
        let n = try FolderDataset.loadSequence(at: t.path + "/none", groundTruth: .ignored)
        XCTAssertEqual(n.count, 2)
        XCTAssertTrue(n.groundTruth.isEmpty)
    }

    func testLoadsTheSharedSequences() throws {
        let root = "/work/shared/data/sequences"
        guard DatasetFiles.isDirectory(root) else { throw XCTSkip("shared data not present") }
        let all = try FolderDataset.loadAll(root: root)
        XCTAssertEqual(all.count, 10)
        XCTAssertEqual(all.reduce(0) { $0 + $1.count }, 2337)
    }
}
