def fibonacci(n):
    """Return the n-th Fibonacci number."""
    if n < 2:
        return n
    


def main():
    for i in range(10):
        print(fibonacci(i))
