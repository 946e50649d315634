import ETImage
@testable import ETTracking
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// Bounded memory: thousands of updates, re-initialisations and tracker lifetimes do not grow memory.
final class SoakTests: XCTestCase {
    func testHeapDoesNotGrowOverManyUpdates() throws {
        #if canImport(Glibc)
        let frames = try TrackingFixtures.frames("OTB_Crossing", limit: 10)
        let gt = try TrackingFixtures.groundTruth("OTB_Crossing")
        let model = TrackingFixtures.models["v2"]!
        /// Resident memory from /proc (Linux): coarse, but it is what a long-running user sees.
        func inUse() -> Int {
            let statm = (try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8)) ?? "0 0"
            return (Int(statm.split(separator: " ")[1]) ?? 0) * Int(sysconf(Int32(_SC_PAGESIZE)))
        }
        var tracker = try NanoTracker(model: model)
        try tracker.initialize(frame: frames[0], box: gt[0])
        /// One phase: re-initialise, 300 updates (every 50th frame black), and a fresh tracker.
        func phase(_ k: Int) throws {
            tracker = try NanoTracker(model: model)  // destroy the old tracker, make a new one
            for cycle in 0..<3 {
                try tracker.initialize(frame: frames[(k + cycle) % 10], box: gt[(k + cycle) % 10])  // re-init
                for i in 0..<300 {
                    _ = try tracker.update(frame: i % 50 == 49 ? Image(width: frames[0].width, height: frames[0].height) : frames[1 + i % 9])
                }
            }
        }
        try phase(0)  // warm-up: the allocator reaches its steady state
        let start = inUse()
        var samples: [Int] = []
        for k in 1...4 { try phase(k); samples.append(inUse() - start) }
        print("resident memory after each of 4 phases of 900 updates, 3 re-inits and a new tracker (bytes over the first): \(samples)")
        XCTAssertLessThan(samples.max()!, 2 << 20, "resident memory keeps growing: \(samples)")
        #endif
    }
}
