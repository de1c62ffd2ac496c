/// A FIFO queue over one array with a moving head, so that appending and taking from the front cost
/// no allocation once the array has grown. Removal from the middle is linear and rare (retries and
/// timeouts).
struct HTTPClientWaiterQueue<Element> {
    private var storage: [Element] = []
    private var head = 0

    var count: Int { storage.count - head }
    var isEmpty: Bool { head == storage.count }

    subscript(index: Int) -> Element {
        storage[head + index]
    }

    mutating func append(_ element: Element) {
        storage.append(element)
    }

    mutating func prepend(_ element: Element) {
        if head > 0 {
            head -= 1
            storage[head] = element
        } else {
            storage.insert(element, at: 0)
        }
    }

    mutating func popFirst() -> Element? {
        guard head < storage.count else { return nil }
        let element = storage[head]
        head += 1
        compactIfWorthIt()
        return element
    }

    @discardableResult
    mutating func remove(at index: Int) -> Element {
        let element = storage.remove(at: head + index)
        compactIfWorthIt()
        return element
    }

    /// Removes the elements for which `shouldRemove` answers true; returns them in queue order.
    mutating func removeAll(where shouldRemove: (Element) -> Bool) -> [Element] {
        var removed: [Element] = []
        var index = head
        while index < storage.count {
            if shouldRemove(storage[index]) {
                removed.append(storage.remove(at: index))
            } else {
                index += 1
            }
        }
        compactIfWorthIt()
        return removed
    }

    func forEach(_ body: (Element) -> Void) {
        for index in head..<storage.count { body(storage[index]) }
    }

    /// Drops the consumed prefix once it is the larger part, keeping the capacity.
    private mutating func compactIfWorthIt() {
        if head == storage.count {
            storage.removeAll(keepingCapacity: true)
            head = 0
        } else if head > 32, head * 2 > storage.count {
            storage.removeFirst(head)
            head = 0
        }
    }
}
