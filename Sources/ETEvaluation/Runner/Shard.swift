/// A deterministic 1/N slice of a benchmark: sequence k (in dataset order) belongs to shard k mod N.
///
/// Interleaving (rather than contiguous blocks) spreads long and short sequences over the shards.
/// Every machine loads the same dataset in the same order, so the shards are disjoint and their
/// union is the whole benchmark; they can write into one shared results folder.
public struct Shard: Equatable, Sendable, CustomStringConvertible {
    /// 0-based index of this shard, `0 ..< count`.
    public var index: Int
    /// Number of shards.
    public var count: Int

    public init(index: Int, count: Int) throws {
        guard count >= 1, index >= 0, index < count else {
            throw EvaluationError("invalid shard \(index)/\(count): need 0 <= index < count")
        }
        self.index = index; self.count = count
    }

    /// Parses `i/N` (0-based index, as `JOB_COMPLETION_INDEX`).
    public init(parsing text: String) throws {
        let p = text.split(separator: "/")
        guard p.count == 2, let i = Int(p[0]), let n = Int(p[1]) else {
            throw EvaluationError("--shard '\(text)': expected i/N, e.g. 0/4 (0-based index)")
        }
        try self.init(index: i, count: n)
    }

    /// The shard named by a scheduler's environment, or nil when none is set.
    ///
    /// - Slurm job arrays: `SLURM_ARRAY_TASK_ID` and `SLURM_ARRAY_TASK_COUNT`; the index is taken
    ///   relative to `SLURM_ARRAY_TASK_MIN` (so `--array=1-8` works as well as `--array=0-7`).
    /// - Kubernetes indexed Jobs: `JOB_COMPLETION_INDEX`, with the count from `countOverride`
    ///   (`--shard-count`) or `ETRACK_SHARD_COUNT` (Kubernetes does not export `completions`).
    /// - Throws: `EvaluationError` when a variable is set but not usable (naming it).
    public static func fromEnvironment(_ env: [String: String], countOverride: Int? = nil) throws -> Shard? {
        func int(_ key: String) throws -> Int? {
            guard let v = env[key], !v.isEmpty else { return nil }
            guard let i = Int(v) else { throw EvaluationError("\(key)='\(v)' is not an integer") }
            return i
        }
        if let id = try int("SLURM_ARRAY_TASK_ID") {
            guard let n = try countOverride ?? int("SLURM_ARRAY_TASK_COUNT") else {
                throw EvaluationError("SLURM_ARRAY_TASK_ID is set but SLURM_ARRAY_TASK_COUNT is not; pass --shard-count")
            }
            let min = try int("SLURM_ARRAY_TASK_MIN") ?? 0
            return try Shard(index: id - min, count: n)
        }
        if let idx = try int("JOB_COMPLETION_INDEX") {
            guard let n = try countOverride ?? int("ETRACK_SHARD_COUNT") else {
                throw EvaluationError("JOB_COMPLETION_INDEX is set but the number of shards is not: pass --shard-count N or set ETRACK_SHARD_COUNT (the Job's completions)")
            }
            return try Shard(index: idx, count: n)
        }
        return nil
    }

    /// The elements of `items` that belong to this shard.
    public func select<T>(_ items: [T]) -> [T] {
        items.enumerated().filter { $0.offset % count == index }.map(\.element)
    }

    public var description: String { "\(index)/\(count)" }
}
