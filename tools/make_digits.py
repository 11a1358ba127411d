"""Generate the bundled digits detection set (COCO format) from scikit-learn's digits.

    python tools/make_digits.py data/digits_det [--train 1200 --val 300 --test 0 --size 128
                                              --seed 0]
"""
import argparse
import time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('out_dir', nargs='?', default='data/digits_det')
    parser.add_argument('--train', type=int, default=1200, help='training images')
    parser.add_argument('--val', type=int, default=300, help='validation images')
    parser.add_argument('--test', type=int, default=0,
                        help='test images (their own pool of handwriting; none at 0)')
    parser.add_argument('--size', type=int, default=128, help='image side, px')
    parser.add_argument('--seed', type=int, default=0)
    args = parser.parse_args()

    from kd_mmdet.datasets.digits_det import make_digits_detection
    t0 = time.time()
    paths = make_digits_detection(args.out_dir, args.train, args.val, args.size, args.seed,
                                  args.test)
    print(f'wrote {", ".join(paths.values())} in {time.time() - t0:.1f} s')


if __name__ == '__main__':
    main()
