import Synchronization

/// The guest memory this node has promised: each instance holds its function's
/// `memory` (plus its FPGA's device memory, which lives in the instance's
/// process) from its cold start until it stops. A start that does not fit the
/// node's budget, or its tenant's cap, waits a bounded time for others to
/// stop, then is refused: the host is never promised more than it has.
public final class MemoryBudget: Sendable {
    public let total: UInt64
    /// Tenants without a cap of their own may hold this much at once.
    public let defaultTenantCap: UInt64

    public enum Refusal: Error, CustomStringConvertible, Sendable {
        case node(needed: UInt64, free: UInt64, total: UInt64)
        case tenant(String, needed: UInt64, cap: UInt64)
        case never(needed: UInt64, limit: UInt64, tenant: String?)

        public var description: String {
            switch self {
            case .node(let needed, let free, let total):
                return "this node has \(mib(free)) of its \(mib(total)) guest memory free and the instance needs \(mib(needed)); retry later"
            case .tenant(let name, let needed, let cap):
                return "tenant \(name)'s instances hold its whole guest memory cap (\(mib(cap))), and this one needs \(mib(needed)); retry later"
            case .never(let needed, let limit, let tenant):
                let whose = tenant.map { "tenant \($0)'s cap" } ?? "this node's guest memory (kumo serve --guest-memory)"
                return "an instance needs \(mib(needed)), more than \(whose) of \(mib(limit)); lower `memory` (or the FPGA's global_memory)"
            }
        }

        private func mib(_ bytes: UInt64) -> String { "\(bytes >> 20) MiB" }
    }

    private struct State {
        var used: UInt64 = 0
        var byTenant: [String: UInt64] = [:]
        var caps: [String: UInt64] = [:]
        var uncapped: Set<String> = []
        var waiters: [UInt64: CheckedContinuation<Void, Never>] = [:]
        var nextWaiter: UInt64 = 0
        /// Counts releases, so a waiter knows whether one came between its look and its wait.
        var releases: UInt64 = 0
        /// Waiters whose deadline passed before they were registered.
        var expired: Set<UInt64> = []
    }
    private let state = Mutex(State())

    public init(total: UInt64, defaultTenantCap: UInt64) {
        self.total = total
        self.defaultTenantCap = min(defaultTenantCap, total)
    }

    /// A tenant's own cap (nil: the default); `uncapped` tenants (the admin) have only the node's budget.
    public func setCap(_ cap: UInt64?, tenant: String, uncapped: Bool = false) {
        state.withLock { s in
            s.caps[tenant] = cap
            if uncapped { s.uncapped.insert(tenant) } else { s.uncapped.remove(tenant) }
        }
    }

    private func cap(_ s: State, _ tenant: String) -> UInt64 {
        s.uncapped.contains(tenant) ? total : min(s.caps[tenant] ?? defaultTenantCap, total)
    }

    /// Whether `bytes` could ever be granted to `tenant` (deploy checks this).
    public func check(_ bytes: UInt64, tenant: String) throws(Refusal) {
        let limit = state.withLock { cap($0, tenant) }
        guard bytes <= limit else { throw .never(needed: bytes, limit: limit, tenant: limit < total ? tenant : nil) }
    }

    /// Reserves `bytes` for one of `tenant`'s instances if there is room now (false: there is
    /// not; `reserve` waits for it). Synchronous, so a cold start that fits makes no hop.
    public func reserveNow(_ bytes: UInt64, tenant: String) throws(Refusal) -> Bool {
        try check(bytes, tenant: tenant)
        return attempt(bytes, tenant: tenant).refusal == nil
    }

    /// Reserves `bytes` for one of `tenant`'s instances, waiting up to `patience` for room.
    public func reserve(_ bytes: UInt64, tenant: String, patience: Duration) async throws(Refusal) {
        try check(bytes, tenant: tenant)
        let deadline = ContinuousClock.now + patience
        while true {
            let (refusal, seen) = attempt(bytes, tenant: tenant)
            guard let refusal else { return }
            guard ContinuousClock.now < deadline else { throw refusal }
            await waitForRelease(after: seen, until: deadline)
        }
    }

    /// Takes `bytes` if both budgets have room; else why not, and the releases seen so far.
    private func attempt(_ bytes: UInt64, tenant: String) -> (refusal: Refusal?, releases: UInt64) {
        state.withLock { s in
            let mine = s.byTenant[tenant, default: 0], limit = cap(s, tenant)
            if s.used + bytes > total { return (.node(needed: bytes, free: total - s.used, total: total), s.releases) }
            if mine + bytes > limit { return (.tenant(tenant, needed: bytes, cap: limit), s.releases) }
            s.used += bytes
            s.byTenant[tenant] = mine + bytes
            return (nil, s.releases)
        }
    }

    /// Gives back what `reserve` took.
    public func release(_ bytes: UInt64, tenant: String) {
        let waiters: [CheckedContinuation<Void, Never>] = state.withLock { s in
            s.used -= min(bytes, s.used)
            let left = s.byTenant[tenant, default: 0] - min(bytes, s.byTenant[tenant, default: 0])
            s.byTenant[tenant] = left > 0 ? left : nil
            s.releases += 1
            defer { s.waiters = [:] }
            return Array(s.waiters.values)
        }
        waiters.forEach { $0.resume() }
    }

    public var used: UInt64 { state.withLock { $0.used } }

    /// Returns at the first release after the `seen`th, or at the deadline.
    private func waitForRelease(after seen: UInt64, until deadline: ContinuousClock.Instant) async {
        let id: UInt64 = state.withLock { s in s.nextWaiter += 1; return s.nextWaiter }
        let timer = Task {
            try? await Task.sleep(until: deadline)
            self.wake(id)
        }
        defer {
            timer.cancel()
            state.withLock { _ = $0.expired.remove(id) }
        }
        await withCheckedContinuation { continuation in
            let missed: Bool = state.withLock { s in
                guard s.releases == seen, s.expired.remove(id) == nil else { return true }
                s.waiters[id] = continuation
                return false
            }
            if missed { continuation.resume() }
        }
    }

    private func wake(_ id: UInt64) {
        let waiter: CheckedContinuation<Void, Never>? = state.withLock { s in
            guard let waiter = s.waiters.removeValue(forKey: id) else {
                s.expired.insert(id)
                return nil
            }
            return waiter
        }
        waiter?.resume()
    }
}
