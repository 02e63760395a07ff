"""`python -m calc.cli 3 1 4 1 5 --window 2` prints a short summary."""
import argparse

from .stats import mean, median, moving_average, percentile


def summarise(values, window):
    return {
        "count": len(values),
        "mean": round(mean(values), 3),
        "median": median(values),
        "p90": percentile(values, 90),
        "moving": [round(v, 3) for v in moving_average(values, window)],
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("values", nargs="+", type=float)
    parser.add_argument("--window", type=int, default=3)
    args = parser.parse_args(argv)
    for key, value in summarise(args.values, args.window).items():
        print(f"{key}: {value}")


if __name__ == "__main__":
    main()
