import Testing
import Wire

@Suite struct DeadlineHeapTests {
    @Test func popsInDeadlineOrder() {
        var generator = SystemRandomNumberGenerator()
        var heap = DeadlineHeap<Int>()
        var deadlines: [Double] = []
        for i in 0..<500 {
            let deadline = Double(Int.random(in: 0..<100, using: &generator))
            deadlines.append(deadline)
            heap.push(deadline, i)
        }
        #expect(heap.count == 500)
        var popped: [Double] = []
        while let entry = heap.pop() {
            #expect(deadlines[entry.value] == entry.deadline)  // each value keeps its own deadline
            popped.append(entry.deadline)
        }
        #expect(popped == deadlines.sorted())
        #expect(heap.isEmpty && heap.first == nil)
    }

    @Test func firstIsTheEarliestAfterInterleavedPushAndPop() {
        var heap = DeadlineHeap<String>()
        heap.push(5, "e")
        heap.push(1, "a")
        heap.push(3, "c")
        #expect(heap.first?.value == "a")
        heap.pop()
        heap.push(2, "b")
        #expect(heap.pop()?.value == "b")
        #expect(heap.pop()?.value == "c")
        #expect(heap.pop()?.value == "e")
        #expect(heap.pop() == nil)
    }
}
