"""The images of an LFW people list as an identity tree, centre-cropped.

    python -m data_pipelines.lfw_subset \
        --people ../shared/data/lfw/peopleDevTrain.txt \
        --output_dir /tmp/facenet_lfw/devtrain_tree [--folds 0,1,...] \
        [--crop_fraction 0.62] [--size 112]

Training on View 1 uses the people of peopleDevTrain.txt only (their pairs in
pairsDevTest.txt share no identity); View 2 trains on 9 folds of people.txt
(`--folds`) and tests on the pairs of the 10th. Deep-funneled LFW faces sit
at the centre of the 250 px image: the central `crop_fraction` (0.62: 155 px,
a little wider than the 0.56 evaluation crop, so a random crop can jitter
around it) is resized to `size` and written as PNG. `data_pipelines.align`
(MTCNN) is the general route for unaligned photos.
"""
import argparse
import os
import sys

from PIL import Image

from facenet_tf.evaluation import lfw_protocol


def write_subset(people_file, output_dir, images_dir=None, folds=None,
                 crop_fraction=0.62, size=112):
  """Writes the tree; returns (identities, images) written."""
  images_dir = images_dir or os.path.join(os.path.dirname(people_file),
                                          "images")
  people = [p for p in lfw_protocol.read_people(people_file)
            if folds is None or p.fold in folds]
  if not people:
    raise ValueError(f"No people in {people_file} for folds {folds}.")
  written = 0
  for person in people:
    os.makedirs(os.path.join(output_dir, person.name), exist_ok=True)
    for i in range(1, person.count + 1):
      source = lfw_protocol.image_path(images_dir, person.name, i)
      target = os.path.join(output_dir, person.name,
                            os.path.basename(source)[:-4] + ".png")
      if not os.path.exists(target):
        with Image.open(source) as image:  # FileNotFoundError names it
          _centre_crop(image.convert("RGB"), crop_fraction, size).save(target)
      written += 1
  return len(people), written


def _centre_crop(image, fraction, size):
  width, height = image.size
  w, h = round(width * fraction), round(height * fraction)
  left, top = (width - w) // 2, (height - h) // 2
  return image.crop((left, top, left + w, top + h)).resize(
      (size, size), Image.BILINEAR)


def main(argv=None):
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--people", required=True)
  parser.add_argument("--output_dir", required=True)
  parser.add_argument("--images_dir", default=None)
  parser.add_argument("--folds", default=None,
                      help="comma-separated people.txt folds (View 2)")
  parser.add_argument("--crop_fraction", type=float, default=0.62)
  parser.add_argument("--size", type=int, default=112)
  args = parser.parse_args(argv)
  if not 0 < args.crop_fraction <= 1 or args.size < 8:
    parser.error("need 0 < --crop_fraction <= 1 and --size >= 8")
  folds = ({int(f) for f in args.folds.split(",")} if args.folds else None)
  try:
    identities, images = write_subset(args.people, args.output_dir,
                                      args.images_dir, folds,
                                      args.crop_fraction, args.size)
  except (OSError, ValueError) as e:
    print(f"lfw_subset: error: {e}", file=sys.stderr)
    return 2
  print(f"{identities} identities, {images} images -> {args.output_dir}")
  return 0


if __name__ == "__main__":
  sys.exit(main())
