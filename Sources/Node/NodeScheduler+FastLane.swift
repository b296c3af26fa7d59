import Foundation
import InstanceWire
import KumoSupport

/// The fast lane: the gateway's event loop calls these, with no task and no actor hop.
/// A warm idle instance takes the request at once; when every instance is busy and the
/// function is at its most instances, the request waits here and the next instance to
/// come free takes it from its reader thread. Anything else is the actor's (`invoke`).
extension NodeScheduler {
    struct Lane {
        var instances: [Instance]
        /// Requests waiting in the actor's queue.
        var waiting: Int
        var meter: ConcurrencyMeter?
        /// No instance can start for it (its instances and starts are at max_instances).
        var full: Bool
        var queueLimit: Int
        /// Requests waiting here, oldest first.
        var queued: [LaneWaiter]

        enum Look { case claimed(Instance, ConcurrencyMeter?), full, none }

        /// An idle instance of `version`, claimed; else whether a request may wait here.
        func look(version: String) -> Look {
            if let idle = instances.reversed().first(where: { $0.claim(version: version) }) { return .claimed(idle, meter) }
            return full && queued.count + waiting < queueLimit ? .full : .none
        }
    }

    struct LaneWaiter {
        let deployment: Deployment
        let invocation: Invocation
        let meter: ConcurrencyMeter?
        let deadline: ContinuousClock.Instant
        let completion: @Sendable (Result<InvocationOutcome, SchedulingError>) -> Void
    }

    /// Runs one request on a warm idle instance of this deployment's version, or queues it
    /// when the function is at its limit (false: neither; use `invoke`). `completion` runs on
    /// an instance's reader thread, before the scheduler's bookkeeping.
    public nonisolated func invokeWarm(_ deployment: Deployment, _ makeInvocation: () -> Invocation?,
                                       completion: @escaping @Sendable (Result<InvocationOutcome, SchedulingError>) -> Void) -> Bool {
        let function = deployment.name
        var look = lanes.withLock { $0[function]?.look(version: deployment.version) ?? .none }
        if case .none = look { return false }
        // Made only once the request can stay here (a cold start does not pay for it twice);
        // a bad request gets its error from the slow path.
        guard let invocation = makeInvocation() else {
            if case .claimed(let instance, _) = look { instance.unclaim(); handOn(instance, function: function) }
            return false
        }
        if case .full = look {
            // Queue it, unless an instance came free meanwhile (then it takes the request now).
            look = lanes.withLock { lanes in
                guard var lane = lanes[function] else { return .none }
                let again = lane.look(version: deployment.version)
                guard case .full = again else { return again }
                lane.meter?.begin()
                lane.queued.append(LaneWaiter(deployment: deployment, invocation: invocation, meter: lane.meter,
                                              deadline: .now + .seconds(deployment.config.timeoutSeconds), completion: completion))
                lanes[function] = lane
                return .full
            }
        }
        switch look {
        case .none: return false
        case .full: return true
        case .claimed(let instance, let meter):
            meter?.begin()
            serve(instance, invocation, deployment: deployment, meter: meter, completion: completion)
            return true
        }
    }

    /// One request on a claimed instance; `meter` has counted it in.
    nonisolated func serve(_ instance: Instance, _ invocation: Invocation, deployment: Deployment, meter: ConcurrencyMeter?,
                           completion: @escaping @Sendable (Result<InvocationOutcome, SchedulingError>) -> Void) {
        let request = prepare(instance, invocation, timeoutSeconds: deployment.config.timeoutSeconds)
        instance.process.invoke(request, body: invocation.body) { [self] answer in
            meter?.end()
            switch answer {
            case .success(let (result, output)):
                completion(.success(InvocationOutcome(result: result, output: output, coldStart: false, instance: instance.id, node: nodeName)))
                returnWarm(instance, function: deployment.name, ended: result.instanceEnded)
            case .failure(let error):
                completion(.failure(.instance(error as? InstanceFailure ?? .ended("\(error)"))))
                returnWarm(instance, function: deployment.name, ended: true)
            }
        }
    }

    /// Idle again at once (the next request of a client in a loop must find it), or straight
    /// on to the oldest request waiting here; the actor only hears of it when it has something to do.
    private nonisolated func returnWarm(_ instance: NodeInstance, function: String, ended: Bool) {
        if ended || !instance.alive || instance.retired {
            Task { await self.finished(instance, function: function, ended: true) }
            return
        }
        if instance.stopsWhenIdle {
            Task { await self.finished(instance, function: function, ended: false) }
            return
        }
        instance.finishedRequest(keepBusy: false)
        handOn(instance, function: function)
    }

    /// An instance just went idle: the oldest request waiting here takes it, else one in the
    /// actor's queue (published first, then looked: a waiter registered meanwhile re-checks too).
    nonisolated func handOn(_ instance: NodeInstance, function: String) {
        let next = lanes.withLock { lanes -> LaneWaiter? in
            guard let first = lanes[function]?.queued.first, instance.claim(version: first.deployment.version) else { return nil }
            lanes[function]?.queued.removeFirst()
            return first
        }
        if let next {
            serve(instance, next.invocation, deployment: next.deployment, meter: next.meter, completion: next.completion)
            return
        }
        if lanes.withLock({ $0[function]?.waiting ?? 0 }) > 0 { Task { await self.serveWaiter(function) } }
        if instance.card != nil { Task { await self.yieldCard(of: instance, function: function) } }
    }

    /// A request waiting here goes the actor's way (it may start an instance now), as the
    /// function's `current` deployment when it was deployed again meanwhile.
    nonisolated func redirect(_ waiter: LaneWaiter, as current: Deployment?) {
        waiter.meter?.end()  // `invoke` counts it again
        Task {
            do throws(SchedulingError) {
                waiter.completion(.success(try await self.invoke(current ?? waiter.deployment, waiter.invocation)))
            } catch {
                waiter.completion(.failure(error))
            }
        }
    }

    /// Requests waiting here for `function` (the queue limit counts both queues).
    nonisolated func laneQueued(_ function: String) -> Int {
        lanes.withLock { $0[function]?.queued.count ?? 0 }
    }

    /// Refuses the requests that waited here past their function's timeout (the reaper's tick).
    func expireLaneWaiters(_ function: String, now: ContinuousClock.Instant) {
        let expired = lanes.withLock { lanes -> [LaneWaiter] in
            guard let queued = lanes[function]?.queued, queued.contains(where: { $0.deadline <= now }) else { return [] }
            lanes[function]?.queued = queued.filter { $0.deadline > now }
            return queued.filter { $0.deadline <= now }
        }
        for waiter in expired {
            waiter.meter?.end()
            waiter.completion(.failure(.queueTimeout(function: function, seconds: waiter.deployment.config.timeoutSeconds)))
        }
    }
}
