"""Generate the digit-crop classification set the toy backbones are pretrained on.

    python tools/make_digits_crops.py data/digits_crops [--train 10000 --val 2000
        --img-size 96 --crop-size 40 --context 0.25 --seed 0]

See kd_mmdet.datasets.digits_crops; configs/pretrain/ trains on it.
"""
import argparse
import time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('out_dir', nargs='?', default='data/digits_crops')
    parser.add_argument('--train', type=int, default=10000, help='training crops')
    parser.add_argument('--val', type=int, default=2000, help='validation crops')
    parser.add_argument('--img-size', type=int, default=96,
                        help='side of the detection images the crops are cut from, px')
    parser.add_argument('--crop-size', type=int, default=40, help='crop side, px')
    parser.add_argument('--context', type=float, default=0.25,
                        help='margin around a box, fraction of its longer side')
    parser.add_argument('--seed', type=int, default=0)
    args = parser.parse_args()

    from kd_mmdet.datasets.digits_crops import make_digits_crops
    t0 = time.time()
    counts = make_digits_crops(args.out_dir, args.train, args.val, args.img_size,
                               args.crop_size, args.context, args.seed)
    print(f'wrote {counts["train"]} train and {counts["val"]} val crops to {args.out_dir} '
          f'in {time.time() - t0:.1f} s')


if __name__ == '__main__':
    main()
