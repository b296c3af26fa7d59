import Cluster
import Foundation
import Functions
import HTTPTypes
import Hummingbird
import Node
import Tender

extension Gateway {
    /// The tenant whose bearer token this is.
    func authenticate(_ request: Request) async throws -> TenantRecord {
        guard let header = request.headers[.authorization], header.lowercased().hasPrefix("bearer ") else {
            throw GatewayError.unauthorized(
                "send 'Authorization: Bearer TOKEN': kumo serve wrote the admin token to admin-token in its data directory; `kumo tenant create NAME` makes a tenant's")
        }
        let token = String(header.dropFirst(7)).trimmingCharacters(in: .whitespaces)
        guard let tenant = try await store.tenant(tokenHash: Tokens.hash(token)) else {
            throw GatewayError.unauthorized("the token is not valid here; check KUMO_TOKEN or --token")
        }
        return tenant
    }

    func info(_ record: FunctionRecord, instances: [NodeScheduler.InstanceInfo]? = nil, scaling: [ScalingStatus]? = nil) -> FunctionInfo? {
        guard let d = try? deployment(from: record) else { return nil }
        return FunctionInfo(name: record.name, tenant: record.tenant, image: record.image, imageBytes: record.imageBytes,
                            mode: d.config.mode.rawValue, accelerator: d.config.accelerator.rawValue,
                            memory: d.config.memory, timeoutSeconds: d.config.timeoutSeconds, limits: d.limits,
                            created: record.created, updated: record.updated, instances: instances, scaling: scaling)
    }

    /// The function, if this tenant may see it (its own, or any for the admin).
    func owned(_ name: String, by tenant: TenantRecord) async throws -> FunctionRecord {
        guard let record = try await store.function(name), tenant.admin || record.tenant == tenant.name else {
            throw GatewayError.notFound("no function named '\(name)' is deployed for tenant \(tenant.name)")
        }
        return record
    }

    func listFunctions(_ request: Request) async throws -> Response {
        let tenant = try await authenticate(request)
        let records = try await store.functions(tenant: tenant.admin ? nil : tenant.name)
        // One listing of every instance (in a cluster, one call per node, not one per function and node).
        let instances = await node.allInstances()
        let infos = records.compactMap { info($0, instances: instances[$0.name] ?? []) }
        return try json(infos)
    }

    func describeFunction(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let tenant = try await authenticate(request)
        let record = try await owned(try functionName(context), by: tenant)
        guard let info = info(record, instances: await node.instances(of: record.name), scaling: await node.scaling(of: record.name)) else {
            throw GatewayError.internalError("the stored config of \(record.name) does not decode; deploy it again")
        }
        return try json(info)
    }

    /// PUT /system/functions/{name}: the body is an image from `kumo build`.
    /// Ownership is checked early (to refuse before the upload) and decided again
    /// where the record is written, so a slow upload cannot take a name over.
    func deploy(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let tenant = try await authenticate(request)
        let name = try functionName(context)
        if let existing = try await store.function(name), existing.tenant != tenant.name, !tenant.admin {
            throw Self.ownedElsewhere(name)
        }
        let requested = try requestedLimits(request)
        let nodeHasFPGAs = await node.capacity().fpgas > 0
        let node = self.node
        let upload = try await ImageUpload.receive(request, into: images.directory, limit: configuration.imageLimit)
        defer { upload.discard() }
        let written: (record: FunctionRecord, created: Bool) = try await images.admit(upload) { config in
            // The deploy's options over the function.yaml's over the server's defaults.
            let limits = requested.base.applying(config.scaling ?? Scaling()).applying(requested.scaling)
            if let why = Scaling.conflict(min: limits.minInstances, max: limits.maxInstances) { throw GatewayError.badRequest(why) }
            if limits.minInstances > 0, !limits.learnsKeepAlive, limits.keepAliveSeconds <= 0 {
                throw GatewayError.badRequest("min_instances keeps instances warm and keep_alive 0 stops each after its request; choose one")
            }
            if config.accelerator == .fpga, !nodeHasFPGAs {
                throw GatewayError.badRequest("\(name) needs an FPGA and this node has none (kumo serve --fpgas N)")
            }
            // Limits that could never fit are refused now, not at every invocation.
            let needed = Deployment(name: name, tenant: tenant.name, imagePath: "", version: "", config: config,
                                    limits: limits).instanceMemory
            do { try node.checkMemory(needed, tenant: tenant.name) } catch let refusal as MemoryBudget.Refusal {
                throw GatewayError.badRequest(refusal.description)
            }
            // Offered to the cluster before the record says it exists: peers that see the record can fetch it.
            try await cluster?.hold(upload.hash)
            let now = Date()
            do {
                return try await store.deploy(FunctionRecord(
                    name: name, tenant: tenant.name, image: upload.hash, imageBytes: upload.byteCount,
                    config: String(decoding: try JSONEncoder().encode(config), as: UTF8.self),
                    limits: String(decoding: try JSONEncoder().encode(limits), as: UTF8.self),
                    created: now, updated: now), by: tenant)
            } catch DeployRefusal.ownedByAnotherTenant {
                throw Self.ownedElsewhere(name)
            }
        }
        let record = written.record
        setDeployment(try deployment(from: record), name: name)
        logs.append(function: name, instance: "-", stream: "kumo", text: "deployed image \(upload.hash.prefix(12)) by \(tenant.name)\n")
        await images.prune(keeping: store.imagesInUse)
        guard let info = info(record) else { throw GatewayError.internalError("cannot describe \(name)") }
        return try json(info, status: written.created ? .created : .ok)
    }

    static func ownedElsewhere(_ name: String) -> GatewayError {
        .forbidden("'\(name)' belongs to another tenant; pick another name")
    }

    /// The server's default limits with the queue from the query, and the scaling options the
    /// query gives (max_instances, min_instances, concurrency, keep_alive: seconds or auto).
    func requestedLimits(_ request: Request) throws -> (base: InstanceLimits, scaling: Scaling) {
        var base = configuration.defaultLimits
        let q = request.uri.queryParameters
        base.queueLimit = Int(try Self.integer(q["queue"], "queue", in: 0...10_000, default: Int64(base.queueLimit)))
        var scaling = Scaling()
        scaling.maxInstances = try Self.integer(q["max_instances"], "max_instances", in: Self.range(Scaling.maxInstancesRange)).map { Int($0) }
        scaling.minInstances = try Self.integer(q["min_instances"], "min_instances", in: Self.range(Scaling.minInstancesRange)).map { Int($0) }
        scaling.concurrency = try Self.integer(q["concurrency"], "concurrency", in: Self.range(Scaling.concurrencyRange)).map { Int($0) }
        if let raw = q["keep_alive"] {
            guard let keep = KeepAlive(String(raw)) else { throw GatewayError.badRequest("keep_alive=\(raw.prefix(40)) \(KeepAlive.rule)") }
            scaling.keepAlive = keep
        }
        if let low = scaling.minInstances, let high = scaling.maxInstances, let why = Scaling.conflict(min: low, max: high) {
            throw GatewayError.badRequest(why)
        }
        return (base, scaling)
    }

    static func range(_ r: ClosedRange<Int>) -> ClosedRange<Int64> { Int64(r.lowerBound)...Int64(r.upperBound) }

    func removeFunction(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let tenant = try await authenticate(request)
        let record = try await owned(try functionName(context), by: tenant)
        try await store.deleteFunction(record.name)
        setDeployment(nil, name: record.name)
        metricHandles.forget(function: record.name)
        await node.remove(function: record.name)
        await images.prune(keeping: store.imagesInUse)
        return try json(["removed": record.name])
    }

    /// A query parameter that must be a whole number in `range` when given.
    static func integer(_ raw: Substring?, _ name: String, in range: ClosedRange<Int64>) throws(GatewayError) -> Int64? {
        guard let raw else { return nil }
        guard let n = Int64(raw), range.contains(n) else {
            throw .badRequest("\(name)=\(raw.prefix(40)) must be a whole number in \(range.lowerBound)...\(range.upperBound)")
        }
        return n
    }

    static func integer(_ raw: Substring?, _ name: String, in range: ClosedRange<Int64>, default value: Int64) throws(GatewayError) -> Int64 {
        try integer(raw, name, in: range) ?? value
    }

    func functionLogs(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let tenant = try await authenticate(request)
        let record = try await owned(try functionName(context), by: tenant)
        let q = request.uri.queryParameters
        let after = try Self.integer(q["after"], "after", in: 0...Int64.max, default: 0)
        let limit = Int(try Self.integer(q["limit"], "limit", in: 1...5000, default: 500))
        await logs.flush()
        let lines = try await store.logs(function: record.name, after: after, limit: limit)
        return try json(LogLines(lines: lines, next: lines.last?.id ?? after))
    }

    func accelerators(_ request: Request) async throws -> Response {
        let tenant = try await authenticate(request)
        var cards = await node.accelerators()
        await logs.flush()
        let grants = try await store.grants(tenant: tenant.admin ? nil : tenant.name, limit: 50)
        if !tenant.admin {
            // Others' tenancy is not this tenant's business: show only that a card is taken.
            for i in cards.indices where cards[i].tenant != nil && cards[i].tenant != tenant.name {
                cards[i].tenant = "(another tenant)"
                cards[i].function = nil
                cards[i].instance = nil
            }
        }
        return try json(AcceleratorInventory(cards: cards, grants: grants))
    }

    /// GET /metrics: Prometheus text. The admin sees every series; a tenant sees
    /// the node-wide ones and those of its own functions, never others' names.
    func metrics(_ request: Request) async throws -> Response {
        let tenant = try await authenticate(request)
        var text = GatewayMetrics.registry.emitToBuffer()
        if !tenant.admin {
            let own = Set(try await store.functions(tenant: tenant.name).map(\.name))
            text = GatewayMetrics.only(functions: own, from: text)
        }
        return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
                        body: .init(byteBuffer: ByteBuffer(bytes: text)))
    }

    func listTenants(_ request: Request) async throws -> Response {
        let tenant = try await authenticate(request)
        guard tenant.admin else { throw GatewayError.forbidden("only the admin token lists tenants") }
        struct Tenant: Encodable {
            var name: String
            var admin: Bool
            var created: Date
        }
        return try json(try await store.tenants().map { Tenant(name: $0.name, admin: $0.admin, created: $0.created) })
    }

    /// POST /system/tenants {"name": ...}: admin only; the new token is shown once.
    func createTenant(_ request: Request) async throws -> Response {
        let tenant = try await authenticate(request)
        guard tenant.admin else { throw GatewayError.forbidden("only the admin token creates tenants") }
        let bytes = try await body(request, limit: 4096)
        struct Create: Decodable {
            var name: String
            /// Its instances' guest memory cap, e.g. "2G"; absent: the node's default.
            var memory: String?
        }
        guard let create = try? JSONDecoder().decode(Create.self, from: Data(bytes)) else {
            throw GatewayError.badRequest("send {\"name\": \"NAME\"} (and \"memory\": \"2G\" for a cap of its own)")
        }
        var memoryLimit: Int64?
        if let text = create.memory {
            guard let bytes = Sizes.parse(text), bytes >= 1 << 20, bytes <= 1 << 50 else {
                throw GatewayError.badRequest("memory '\(text.prefix(40))' is not a size like 512M or 2G")
            }
            memoryLimit = Int64(bytes)
        }
        guard FunctionName.isValid(create.name) else {
            throw GatewayError.badRequest("tenant name '\(create.name)' \(FunctionName.rule)")
        }
        let token = Tokens.generate()
        guard try await store.insert(TenantRecord(name: create.name, tokenHash: Tokens.hash(token), admin: false, created: Date(),
                                            memoryLimit: memoryLimit)) else {
            throw GatewayError.conflict("tenant \(create.name) exists")
        }
        node.setMemoryCap(memoryLimit.map(UInt64.init), tenant: create.name, uncapped: false)
        return try json(["name": create.name, "token": token], status: .created)
    }
}
