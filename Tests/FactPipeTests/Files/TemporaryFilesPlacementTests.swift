import Dispatch
import Foundation
import Synchronization
import Testing

@testable import FactPipe

/// An interrupt never lands between the two halves of putting a finished file in place: a restore removes
/// the replaced database's `-wal` and renames the restored file over it, and a signal between them left the
/// old database without its log (its last 60,000 commits gone, `integrity_check` ok, exit 143).
@Suite struct TemporaryFilesPlacementTests {
    @Test func anInterruptWaitsForAFileBeingPutInPlaceAndIsToldItWas() throws {
        let halves = Mutex<[String]>([])
        let started = DispatchSemaphore(value: 0)
        let finished = DispatchSemaphore(value: 0)
        DispatchQueue.global().async {
            TemporaryFiles.puttingInPlace { () throws(Never) in
                halves.withLock { $0.append("removed the old log") }
                started.signal()
                usleep(300_000)
                halves.withLock { $0.append("renamed") }
            }
            finished.signal()
        }
        started.wait()
        // What the interrupt handler does: its end runs only once the placement is whole, and no other
        // placement starts while it runs.
        var placed = false
        TemporaryFiles.endingForInterrupt { wasPlaced in
            placed = wasPlaced
            #expect(halves.withLock { $0 } == ["removed the old log", "renamed"])
            let other = DispatchSemaphore(value: 0)
            DispatchQueue.global().async {
                TemporaryFiles.puttingInPlace { () throws(Never) in halves.withLock { $0.append("another") } }
                other.signal()
            }
            #expect(other.wait(timeout: .now() + 0.3) == .timedOut, "a placement began inside the interrupt's end")
            #expect(halves.withLock { $0 }.count == 2)
        }
        #expect(placed)
        finished.wait()
    }

    /// A restore's replacement holds the lock around the output's own placement: it may be taken again.
    @Test func aPlacementInsideAPlacementDoesNotWait() {
        var inner = false
        TemporaryFiles.puttingInPlace { () throws(Never) in
            TemporaryFiles.puttingInPlace { () throws(Never) in inner = true }
        }
        #expect(inner)
    }
}
