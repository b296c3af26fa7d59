@testable import Tender

/// The tests' name for the tender's ELF builder.
typealias SyntheticELF = ELFBuilder
