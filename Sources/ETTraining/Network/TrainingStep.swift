import ETCore
import ETData
import ETNN
import Foundation

/// One training step's forward, loss and backward, data-parallel over threads: the batch is cut
/// into K contiguous chunks, replica r runs chunk r on its own thread (serial GEMMs inside), and
/// the gradients are combined in replica order, each weighted by its share of the batch, as
/// PyTorch's DistributedDataParallel averages them (BatchNorm statistics are per chunk, as DDP's
/// without SyncBatchNorm; the running statistics are averaged the same way). One thread is the
/// plain single-network step, so it stays bit-exact with itself across resumes; K threads are
/// deterministic for a given K.
///
/// Why replicas rather than threads inside each GEMM: at batch 32 most GEMMs of a step are per
/// image or per head (320×320×16 attention products, 128×1152×256 head convolutions), too small
/// to split well; two replicas on two cores ran 1.8× faster, threaded GEMMs 1.15× (bench train).
public final class TrainingStep {
    /// Replica 0: the weights the optimiser updates, and where the combined gradient lands.
    public let network: TrainingNetwork<Float>
    let replicas: [TrainingNetwork<Float>]
    let pool: ThreadPool
    public var threads: Int { replicas.count + 1 }

    public init(_ configuration: ModelConfiguration, threads: Int) throws {
        network = try TrainingNetwork<Float>(configuration)
        replicas = try (1..<max(threads, 1)).map { _ in try TrainingNetwork<Float>(configuration) }
        pool = ThreadPool(threads: max(threads, 1))
    }

    /// Runs forward, loss and backward on `batch`; afterwards `network.grads` holds ∂L/∂θ and
    /// `network`'s running statistics are updated. Returns the loss (NaN total when `poison`).
    public func run(template: [Float], search: [Float], targets: [BoundingBox], weights: LossWeights,
                    poison: Bool = false) -> LossValue {
        let cfg = network.configuration, b = targets.count
        let k = min(threads, b)
        let tn = 3 * cfg.templateSize * cfg.templateSize, sn = 3 * cfg.searchSize * cfg.searchSize
        let bounds = (0...k).map { $0 * b / k }
        let count = network.parameterCount
        var values = [LossValue](repeating: LossValue(), count: k)
        let nets = [network] + replicas
        for r in 1..<k { nets[r].params.update(from: network.params, count: count) }
        values.withUnsafeMutableBufferPointer { out in
            let out = out.baseAddress!
            let body = { (r: Int) in
                let net = nets[r], lo = bounds[r], hi = bounds[r + 1]
                net.training = self.network.training
                net.updateRunningStatistics = self.network.updateRunningStatistics
                net.zeroGradients()
                let o = net.forward(template: Array(template[lo * tn..<hi * tn]), search: Array(search[lo * sn..<hi * sn]), batch: hi - lo)
                var (value, gradient) = TrackingLoss.evaluate(o, targets: Array(targets[lo..<hi]), head: cfg.head,
                                                              side: cfg.searchSide, weights: weights)
                if poison { value.total = .nan }
                if value.total.isFinite { net.backward(gradient, output: o) }
                out[r] = value
            }
            if k == 1 { body(0) } else { pool.parallelFor(k) { body($0) } }
        }
        guard k > 1 else { return values[0] }
        // Weighted sums in replica order: gradients, running statistics, loss terms.
        let share = (0..<k).map { Double(bounds[$0 + 1] - bounds[$0]) / Double(b) }
        let g = network.grads
        for i in 0..<count { g[i] *= Float(share[0]) }
        for r in 1..<k {
            let w = Float(share[r]), gr = nets[r].grads
            for i in 0..<count { g[i] += w * gr[i] }
        }
        for s in network.table.specs where !s.isTrainable {
            for i in s.offset..<s.offset + s.count {
                var v = Float(share[0]) * network.params[i]
                for r in 1..<k { v += Float(share[r]) * nets[r].params[i] }
                network.params[i] = v
            }
        }
        var total = LossValue()
        for r in 0..<k {
            total.total += share[r] * values[r].total; total.focal += share[r] * values[r].focal
            total.giou += share[r] * values[r].giou; total.l1 += share[r] * values[r].l1; total.iou += share[r] * values[r].iou
        }
        return total
    }
}
