/// A buffer the plan needs, with the steps during which it must hold its value.
struct StorageRequest {
    var count: Int
    /// First step that writes it (-1 for inputs and constants, filled before the run).
    var first: Int
    /// Last step that reads it (Int.max for outputs, inputs and constants: never reused).
    var last: Int
}

/// Assigns arena offsets: storages whose lifetimes overlap never share memory; others may.
enum MemoryPlanner {
    static func place(_ storages: [StorageRequest]) -> [Int] {
        // Round to 16 floats (64 bytes) so every buffer starts on a cache line.
        func rounded(_ n: Int) -> Int { (n + 15) & ~15 }
        var offsets = [Int](repeating: 0, count: storages.count)
        var placed: [(offset: Int, size: Int, first: Int, last: Int)] = []
        // Largest first gives tighter packing.
        let order = storages.indices.sorted { storages[$0].count > storages[$1].count }
        for s in order {
            let req = storages[s], size = rounded(max(req.count, 1))
            let conflicts = placed.filter { !($0.last < req.first || req.last < $0.first) }.sorted { $0.offset < $1.offset }
            var candidate = 0
            for c in conflicts {
                if candidate + size <= c.offset { break }
                candidate = max(candidate, c.offset + c.size)
            }
            offsets[s] = candidate
            placed.append((candidate, size, req.first, req.last))
        }
        return offsets
    }
}
