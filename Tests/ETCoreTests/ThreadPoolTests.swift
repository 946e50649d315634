import XCTest
import ETCore

final class ThreadPoolTests: XCTestCase {
    func testEveryIndexRunsOnce() {
        let pool = ThreadPool(threads: 2, spinMicroseconds: 100)
        for count in [0, 1, 2, 3, 17, 1000] {
            let hits = UnsafeMutablePointer<Int>.allocate(capacity: max(1, count))
            hits.initialize(repeating: 0, count: max(1, count))
            for _ in 0..<20 {
                pool.parallelFor(count) { i in hits[i] += 1 }  // each index is owned by one thread
            }
            for i in 0..<count where hits[i] != 20 {
                XCTFail("parallelFor(\(count)): index \(i) ran \(hits[i]) times, expected 20")
                break
            }
            hits.deallocate()
        }
    }

    func testWorkerSleepsAndWakes() {
        let pool = ThreadPool(threads: 2, spinMicroseconds: 50)
        let out = UnsafeMutablePointer<Int>.allocate(capacity: 2)
        defer { out.deallocate() }
        for round in 0..<5 {
            usleep(2000)  // let the worker fall asleep
            if round % 2 == 1 { pool.wake() }
            if round == 3 { pool.idle() }
            out[0] = 0; out[1] = 0
            pool.parallelFor(2) { i in out[i] = i + 1 }
            XCTAssertEqual([out[0], out[1]], [1, 2], "round \(round)")
        }
    }

    func testWorkerTakesPart() {
        // Items that take 2 ms leave the worker ample time to wake and claim the second one.
        let pool = ThreadPool(threads: 2, spinMicroseconds: 100)
        let ids = UnsafeMutablePointer<pthread_t>.allocate(capacity: 2)
        defer { ids.deallocate() }
        var parallelRuns = 0
        for _ in 0..<10 {
            pool.parallelFor(2) { i in
                ids[i] = pthread_self()
                usleep(2000)
            }
            if pthread_equal(ids[0], ids[1]) == 0 { parallelRuns += 1 }
        }
        XCTAssertGreaterThan(parallelRuns, 0, "the worker thread never ran an item in 10 parallelFor(2) calls")
    }

    func testNestedCallsRunInline() {
        let pool = ThreadPool(threads: 2)
        let sums = UnsafeMutablePointer<Int>.allocate(capacity: 4)
        sums.initialize(repeating: 0, count: 4)
        defer { sums.deallocate() }
        pool.parallelFor(4) { i in
            pool.parallelFor(3) { j in sums[i] += j + 1 }
        }
        XCTAssertEqual((0..<4).map { sums[$0] }, [6, 6, 6, 6])
    }

    func testSerialPool() {
        var order: [Int] = []
        ThreadPool.serial.parallelFor(4) { order.append($0) }
        XCTAssertEqual(order, [0, 1, 2, 3])
        XCTAssertEqual(ThreadPool(threads: 0).threadCount, 1)
    }
}
