"""Generate the bundled digits classification set (mmpretrain folder layout).

    python tools/make_digits_cls.py data/digits_cls [--train 3000 --val 1000 --test 0
                                                     --size 32 --seed 0]
"""
import argparse
import time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('out_dir', nargs='?', default='data/digits_cls')
    parser.add_argument('--train', type=int, default=3000, help='training images')
    parser.add_argument('--val', type=int, default=1000, help='validation images')
    parser.add_argument('--test', type=int, default=0,
                        help='test images (their own pool of handwriting; none at 0)')
    parser.add_argument('--size', type=int, default=32, help='image side, px')
    parser.add_argument('--seed', type=int, default=0)
    args = parser.parse_args()

    from kd_mmdet.datasets.digits_cls import make_digits_classification
    t0 = time.time()
    counts = make_digits_classification(args.out_dir, args.train, args.val, args.size,
                                        args.seed, args.test)
    print(f'wrote {", ".join(f"{n} {split}" for split, n in counts.items())} images to '
          f'{args.out_dir} in {time.time() - t0:.1f} s')


if __name__ == '__main__':
    main()
