import Foundation

/// The v3 JSON gateway's shapes (grpc-gateway's mapping of etcd's protobufs): keys and
/// values in base64, 64-bit integers as decimal strings, false and zero fields left out.
enum EtcdWire {
    /// An int64 that arrives as a string (or, from some gateways, a number).
    struct Int64Text: Codable, Sendable {
        var value: Int64
        init(_ value: Int64) { self.value = value }
        init(from decoder: Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let number = try? container.decode(Int64.self) {
                value = number
            } else if let parsed = Int64(try container.decode(String.self)) {
                value = parsed
            } else {
                throw DecodingError.dataCorruptedError(in: container, debugDescription: "not a 64-bit integer")
            }
        }
        func encode(to encoder: Encoder) throws {
            var container = encoder.singleValueContainer()
            try container.encode(String(value))
        }
    }

    struct Header: Decodable {
        var revision: Int64Text?
    }

    struct KeyValue: Decodable {
        var key: Data?
        var value: Data?
        var create_revision: Int64Text?
        var mod_revision: Int64Text?
        var version: Int64Text?
        var lease: Int64Text?

        var record: EtcdKeyValue {
            EtcdKeyValue(key: String(decoding: key ?? Data(), as: UTF8.self), value: [UInt8](value ?? Data()),
                         createRevision: create_revision?.value ?? 0, modRevision: mod_revision?.value ?? 0,
                         version: version?.value ?? 0, lease: lease?.value ?? 0)
        }
    }

    /// etcd's error body: `{"error": ..., "code": N, "message": ...}`.
    struct Failure: Decodable {
        var code: Int?
        var message: String?
        var error: String?
    }

    struct RangeRequest: Encodable {
        var key: Data
        var range_end: Data?
        var limit: Int64Text?
        var revision: Int64Text?
        var keys_only: Bool?
        var sort_order: String?
        var sort_target: String?
        var min_create_revision: Int64Text?
    }

    struct RangeResponse: Decodable {
        var header: Header?
        var kvs: [KeyValue]?
        var more: Bool?
        var count: Int64Text?
    }

    struct PutRequest: Encodable {
        var key: Data
        var value: Data
        var lease: Int64Text?
        var prev_kv: Bool?
    }

    struct PutResponse: Decodable {
        var header: Header?
        var prev_kv: KeyValue?
    }

    struct DeleteRequest: Encodable {
        var key: Data
        var range_end: Data?
    }

    struct DeleteResponse: Decodable {
        var header: Header?
        var deleted: Int64Text?
    }

    struct Compare: Encodable {
        var key: Data
        var range_end: Data?
        var target: String
        var result: String
        var version: Int64Text?
        var create_revision: Int64Text?
        var mod_revision: Int64Text?
        var value: Data?
        var lease: Int64Text?
    }

    struct RequestOp: Encodable {
        var request_range: RangeRequest?
        var request_put: PutRequest?
        var request_delete_range: DeleteRequest?
    }

    struct TxnRequest: Encodable {
        var compare: [Compare]
        var success: [RequestOp]
        var failure: [RequestOp]
    }

    struct ResponseOp: Decodable {
        var response_range: RangeResponse?
        var response_put: PutResponse?
        var response_delete_range: DeleteResponse?
    }

    struct TxnResponse: Decodable {
        var header: Header?
        var succeeded: Bool?
        var responses: [ResponseOp]?
    }

    struct LeaseGrantRequest: Encodable {
        var TTL: Int64Text
        var ID: Int64Text?
    }

    struct LeaseGrantResponse: Decodable {
        var ID: Int64Text?
        var TTL: Int64Text?
        var error: String?
    }

    struct LeaseID: Encodable {
        var ID: Int64Text
    }

    struct LeaseKeepAliveResponse: Decodable {
        struct Result: Decodable {
            var ID: Int64Text?
            var TTL: Int64Text?
        }
        var result: Result?
    }

    struct WatchCreate: Encodable {
        struct Create: Encodable {
            var key: Data
            var range_end: Data?
            var start_revision: Int64Text?
            var progress_notify: Bool?
        }
        var create_request: Create
    }

    struct WatchResponse: Decodable {
        struct Result: Decodable {
            struct Event: Decodable {
                var type: String?
                var kv: KeyValue?
            }
            var header: Header?
            var created: Bool?
            var canceled: Bool?
            var compact_revision: Int64Text?
            var cancel_reason: String?
            var events: [Event]?
        }
        var result: Result?
        var error: Failure?
    }
}
