"""Drawing synthetic faces: the trait and variation tables and the painter.

`synthetic_faces.render` seeds the uniforms; `render_chunk` turns them into
pixels. Every shape is a soft mask from an approximate signed distance,
anti-aliased over one pixel, drawn on channel planes [3, n, H, W] (3.8x
faster per paint than channels-last, measured).

Coordinates: the image spans [-1, 1] on both axes, y points down; lengths in
the tables are in these units, in the face's own frame (before the pose).
"""
import numpy as np

# Identity traits, uniform in [low, high]. `*_tone` picks a palette colour;
# `has_*` and `is_*` are compared with the probabilities below.
TRAITS = {
    "face_a": (0.33, 0.47), "face_b": (0.45, 0.60),
    "skin_tone": (0.0, 1.0), "undertone": (-0.08, 0.08),
    "hair_tone": (0.0, 1.0), "eye_tone": (0.0, 1.0),
    "eye_y": (-0.10, 0.02), "eye_dx": (0.13, 0.20),
    "eye_rx": (0.06, 0.10), "eye_ry": (0.03, 0.055),
    "iris_r": (0.028, 0.045),
    "brow_gap": (0.06, 0.11), "brow_len": (0.06, 0.11),
    "brow_thick": (0.02, 0.05), "brow_arch": (-0.01, 0.04),
    "brow_tilt": (-0.03, 0.03),
    "nose_len": (0.12, 0.2), "nose_w": (0.035, 0.075),
    "mouth_gap": (0.08, 0.14), "mouth_w": (0.08, 0.15),  # gap below the nose
    "lip_thick": (0.015, 0.04), "lip_red": (0.0, 1.0),
    "hairline": (-0.38, -0.18), "temple": (0.05, 0.25),
    "hair_volume": (0.01, 0.14), "fringe_depth": (-0.1, 0.22),
    "fringe_u": (-0.3, 0.3), "fringe_w": (0.08, 0.35),
    "long_len": (0.2, 0.9), "has_long_hair": (0.0, 1.0),
    "is_bald": (0.0, 1.0), "has_glasses": (0.0, 1.0),
    "glasses_tone": (0.0, 1.0), "glasses_shape": (0.0, 1.0),
    "glasses_rim": (0.012, 0.024), "glasses_tint": (0.0, 0.35),
    "has_beard": (0.0, 1.0),
}
_P_LONG_HAIR, _P_BALD, _P_GLASSES, _P_BEARD = 0.35, 0.08, 0.25, 0.2
_P_SQUARE_GLASSES = 0.5

# Per-image nuisance variation, uniform in [low, high]. Calibrated so that
# `tiny` trained for 90 s on 2 CPU cores (Adam 1e-3, 32 x 8 semi-hard
# batches, 500 x 20 images) verifies held-out identities at ~98% while raw
# pixels get 65-70%. A first guess, with about twice these pose and lighting
# ranges and a head 1.2x smaller, plateaued near 96% (240 s).
_VARIATION = {
    # The head sits low and fills the image, as in a face detector's crop.
    "roll": (-0.1, 0.1), "tx": (-0.05, 0.05), "ty": (0.07, 0.13),
    "scale": (1.14, 1.26), "yaw": (-0.25, 0.25),
    "smile": (-0.02, 0.05), "mouth_open": (-0.03, 0.035),
    "eye_open": (0.35, 1.15), "brow_raise": (-0.01, 0.03),
    "gaze": (-0.012, 0.012),
    "light_angle": (0.0, 2 * np.pi), "light": (0.0, 0.2),
    "brightness": (-12.0, 12.0), "contrast": (0.9, 1.1),
    "cast_r": (-0.04, 0.04), "cast_g": (-0.04, 0.04), "cast_b": (-0.04, 0.04),
    "noise": (2.0, 8.0),
    "bg_gx": (-70.0, 70.0), "bg_gy": (-70.0, 70.0),
}
_NUM_BLOBS = 4  # background clutter, each (x, y, radius, r, g, b)
# Then the background's and the clothing's colours, 3 uniforms each.
NUM_UNIFORMS = len(_VARIATION) + 6 * _NUM_BLOBS + 6

_SKIN = np.float32([[255, 224, 196], [234, 192, 160], [205, 150, 112],
                    [160, 110, 75], [110, 72, 48], [70, 45, 32]])
_HAIR = np.float32([[20, 16, 14], [62, 40, 26], [112, 76, 44], [160, 72, 32],
                    [205, 140, 70], [220, 190, 120], [240, 235, 215],
                    [160, 158, 155]])
_EYES = np.float32([[60, 36, 20], [110, 70, 35], [120, 110, 50],
                    [60, 120, 70], [70, 120, 190], [120, 130, 140]])
_FRAMES = np.float32([[15, 15, 15], [90, 50, 25], [190, 160, 60],
                      [150, 30, 30], [30, 50, 140]])


def render_chunk(trait_uniforms, variation_uniforms, noise):
  """uint8 [n, H, W, 3] from uniforms [n, k] and noise bytes [3, n, H, W]."""
  t = _scaled(TRAITS, trait_uniforms)
  t["skin"] = _palette(_SKIN, t["skin_tone"]) * (
      1 + t["undertone"] * _rgb(1, 0, -1))  # warmer or cooler
  t["hair"] = _palette(_HAIR, t["hair_tone"])
  t["mouth_y"] = t["eye_y"] + t["nose_len"] + t["mouth_gap"]
  p = _scaled(_VARIATION, variation_uniforms)
  scene = variation_uniforms[:, len(_VARIATION):]  # blobs, then colours
  p["clothing"] = _planes(30 + 200 * scene[:, -3:])
  size = noise.shape[-1]
  step = np.float32(2 / size)
  grid = (np.arange(size, dtype=np.float32) + 0.5) * step - 1
  image = _background(grid, step, p, scene)
  # Each part is drawn only inside the box that holds it in every image of
  # the chunk (the eyes' box is about a tenth of the image): 1.4x faster.
  for draw, bounds in ((_draw_body, _body_bounds), (_draw_head, _head_bounds),
                       (_draw_mouth, _mouth_bounds), (_draw_eyes, _eye_bounds)):
    rows, cols = _box(grid, step, p, *bounds(t, p))
    draw(image[:, :, rows, cols],
         _face_frame(grid[cols], grid[rows], step, t, p), t, p)
  return _expose(image, grid, p, noise)


def _scaled(table, uniforms):
  """{name: float32 [n, 1, 1]} from the first len(table) columns of uniforms."""
  return {name: low + (high - low) * uniforms[:, k, None, None]
          for k, (name, (low, high)) in enumerate(table.items())}


def _palette(colours, tone):
  """Colours [3, n, 1, 1] interpolated along a palette at tone in [0, 1]."""
  pos = tone[:, 0, 0] * (len(colours) - 1)
  low = np.minimum(pos.astype(int), len(colours) - 2)
  frac = (pos - low)[:, None]
  return _planes(colours[low] * (1 - frac) + colours[low + 1] * frac)


def _planes(colours):
  """[n, 3] colours -> [3, n, 1, 1] float32, to broadcast over image planes."""
  return colours.T[:, :, None, None].astype(np.float32)


def _rgb(r, g, b):
  """One colour for every image: [3, 1, 1, 1]."""
  return np.float32([r, g, b])[:, None, None, None]


def _ellipse(u, v, ru, rv):
  """Approximate signed distance to an ellipse at the origin (< 0 inside)."""
  return (np.sqrt((u / ru) ** 2 + (v / rv) ** 2) - 1) * np.minimum(
      ru, rv, dtype=np.float32)


def _cover(sdf, pixel):
  """Anti-aliased coverage of the region sdf < 0: a ramp one pixel wide."""
  return np.clip(0.5 - sdf / pixel, 0, 1)


def _paint(image, alpha, colour):
  """Composites `colour` over `image` [3, n, H, W] in place.

  Channel planes, not channels-last: a trailing axis of 3 makes every NumPy
  inner loop 3 long (3.8x slower, measured).
  """
  image += alpha * (colour - image)


def _background(grid, step, p, scene):
  """A base colour, a linear gradient and blobs of clutter: [3, n, H, W]."""
  x, y = grid[None, None, :], grid[None, :, None]
  image = _planes(40 + 175 * scene[:, -6:-3]) + (p["bg_gx"] * x +
                                                 p["bg_gy"] * y)
  for k in range(_NUM_BLOBS):
    bx, by, radius, *rgb = (scene[:, 6 * k + j, None, None] for j in range(6))
    sdf = np.sqrt((x - 2 * bx + 1) ** 2 + (y - 2 * by + 1) ** 2) - (
        0.1 + 0.3 * radius)
    _paint(image, _cover(sdf, step), 30 + 200 * np.stack(rgb))
  return image


def _face_frame(x, y, step, t, p):
  """(u, v, uf, pixel): the face's own frame at image points x [W], y [H].

  u, v undo the translation, scale and roll. uf adds a fake yaw: points on
  the face slide by yaw * face_a at the centre and not at the rim (a
  parabola, monotonic for |yaw| < 0.5, so nothing folds over), which squashes
  one side and stretches the other. `pixel` is `step` (a pixel in image
  units) in face units.
  """
  cos, sin = np.cos(p["roll"]), np.sin(p["roll"])
  xs = (x[None, None, :] - p["tx"]) / p["scale"]
  ys = (y[None, :, None] - p["ty"]) / p["scale"]
  u, v = cos * xs + sin * ys, cos * ys - sin * xs
  a = t["face_a"]
  uf = u - p["yaw"] * a * np.maximum(1 - (u / a) ** 2, 0)
  return u, v, uf, step / p["scale"]


def _box(grid, step, p, u_lo, u_hi, v_lo, v_hi, slide):
  """(rows, columns): the image's slices holding a face-frame box in every
  image of the chunk, 3 pixels more for the anti-aliasing.

  The box is [u_lo, u_hi] x [v_lo, v_hi]; `slide` is how far a yaw of 1
  moves what is drawn inside it (see `_face_frame`).
  """
  shift = p["yaw"] * slide
  u_lo, u_hi = u_lo + np.minimum(shift, 0), u_hi + np.maximum(shift, 0)
  cos, sin = np.cos(p["roll"]), np.sin(p["roll"])
  xs, ys = [], []
  for u in (u_lo, u_hi):
    for v in (v_lo, v_hi):
      xs.append(p["tx"] + p["scale"] * (cos * u - sin * v))
      ys.append(p["ty"] + p["scale"] * (sin * u + cos * v))

  def span(coords):
    return slice(np.searchsorted(grid, np.min(coords) - 3 * step),
                 np.searchsorted(grid, np.max(coords) + 3 * step))
  return span(ys), span(xs)


def _body_bounds(t, p):
  return -0.8, 0.8, 0.2, 1.43, 0


def _draw_body(image, frame, t, p):
  """Neck, then shoulders over its lower end."""
  u, v, _, pixel = frame
  neck = np.maximum(np.abs(u) - 0.42 * t["face_a"], np.abs(v - 0.6) - 0.4)
  _paint(image, _cover(neck, pixel), t["skin"] * 0.8)
  _paint(image, _cover(_ellipse(u, v - 1.05, 0.8, 0.38), pixel), p["clothing"])


def _head_bounds(t, p):
  a, b, volume = t["face_a"], t["face_b"], t["hair_volume"]
  half_u = a + np.maximum(volume, 0.08)  # hair or ears
  long_hair = np.where(t["has_long_hair"] < _P_LONG_HAIR, t["long_len"], 0)
  return -half_u, half_u, -0.05 - b - volume, np.maximum(b, long_hair), 0


def _draw_head(image, frame, t, p):
  """Hair behind the head, ears, face, hair and beard on the face."""
  u, v, uf, pixel = frame
  a, b, skin, hair = t["face_a"], t["face_b"], t["skin"], t["hair"]
  volume, bald = t["hair_volume"], t["is_bald"] < _P_BALD
  hair_sdf = _ellipse(u, v + 0.15, a + volume, b - 0.1 + volume)
  long_hair = t["has_long_hair"] < _P_LONG_HAIR
  if long_hair.any():
    hangs = np.maximum(np.abs(u) - a - volume,
                       np.maximum(-0.1 - v, v - t["long_len"]))
    hair_sdf = np.minimum(hair_sdf, np.where(long_hair, hangs, 1))
  _paint(image, _cover(hair_sdf, pixel) * ~bald, hair)
  # The ear on the side the face turns away from shows more of itself.
  ear_v = v - t["eye_y"] - 0.06
  ears = np.minimum(_ellipse(u + a, ear_v, 0.05 * (1 + 2 * p["yaw"]), 0.09),
                    _ellipse(u - a, ear_v, 0.05 * (1 - 2 * p["yaw"]), 0.09))
  _paint(image, _cover(ears, pixel), skin * 0.85)

  radius = (u / a) ** 2 + (v / b) ** 2
  face = (np.sqrt(radius) - 1) * np.minimum(a, b)  # as `_ellipse`
  _paint(image, _cover(face, pixel), skin * (1 - 0.15 * np.minimum(radius, 1)))
  hairline = (t["hairline"] + t["temple"] * (uf / a) ** 2 + t["fringe_depth"]
              * np.exp(-((uf - t["fringe_u"]) / t["fringe_w"]) ** 2))
  # Past the face's rim by 1.5 pixels: over the rim's own anti-aliasing,
  # skin would show through as a thin ring.
  scalp = np.maximum(face - 1.5 * pixel, v - hairline)
  _paint(image, _cover(scalp, pixel) * ~bald, hair)
  beard = t["has_beard"] < _P_BEARD
  if beard.any():
    chin = np.maximum(face, t["mouth_y"] - 0.05 - v)
    _paint(image, _cover(chin, pixel) * (0.9 * beard), hair)


def _mouth_bounds(t, p):
  half_u = np.maximum(t["mouth_w"], 1.1 * t["nose_w"])
  v_hi = t["mouth_y"] + np.abs(p["smile"]) + (t["lip_thick"] + np.maximum(
      p["mouth_open"], 0)) / 2
  return -half_u, half_u, t["eye_y"], v_hi, 1.12 * t["face_a"]


def _draw_mouth(image, frame, t, p):
  """Nose, nostrils, lips and the open mouth."""
  _, v, uf, pixel = frame
  skin = t["skin"]
  # The nose sticks out of the face, so the yaw slides it further.
  nu = uf - 0.12 * p["yaw"] * t["face_a"]
  dv = v - t["eye_y"]
  along = dv / t["nose_len"]  # 0 at the eyes, 1 at the tip
  nose = np.maximum(np.abs(nu) - t["nose_w"] * np.clip(along, 0.25, 1),
                    (np.abs(along - 0.55) - 0.45) * t["nose_len"])
  _paint(image, _cover(nose, pixel) * 0.6, skin * 0.75)
  nostrils = _ellipse(np.abs(nu) - 0.55 * t["nose_w"],
                      dv - t["nose_len"] + 0.01, 0.022, 0.012)
  _paint(image, _cover(nostrils, pixel), skin * 0.4)

  mouth_v = v - t["mouth_y"] + p["smile"] * (uf / t["mouth_w"]) ** 2
  opening = np.maximum(p["mouth_open"], 0)
  lips = np.maximum(np.abs(mouth_v) - (t["lip_thick"] + opening) / 2,
                    np.abs(uf) - t["mouth_w"])
  lip_colour = skin * (0.85 - t["lip_red"] * _rgb(0.13, 0.38, 0.34))
  _paint(image, _cover(lips, pixel), lip_colour)
  inside = np.maximum(np.abs(mouth_v) - opening / 2,
                      np.abs(uf) - 0.85 * t["mouth_w"])
  _paint(image, _cover(inside, pixel), _rgb(60, 20, 25))


def _eye_bounds(t, p):
  rim = 1.45 * t["eye_rx"] + t["glasses_rim"]  # the glasses' outer edge
  half_u = t["eye_dx"] + np.maximum(rim, t["brow_len"])
  brow_top = (t["brow_gap"] + p["brow_raise"] + np.abs(t["brow_arch"])
              + np.abs(t["brow_tilt"]) + t["brow_thick"] / 2)
  return (-half_u, half_u, t["eye_y"] - np.maximum(brow_top, rim),
          t["eye_y"] + rim, t["face_a"])


def _draw_eyes(image, frame, t, p):
  """Brows, eyes and glasses, mirrored: du is the distance from the eye's
  vertical centre line."""
  _, v, uf, pixel = frame
  du, dv = np.abs(uf) - t["eye_dx"], v - t["eye_y"]
  brow_u = du / t["brow_len"]
  brow_v = (dv + t["brow_gap"] + p["brow_raise"] + t["brow_arch"]
            * (1 - brow_u ** 2) - t["brow_tilt"] * brow_u)
  brows = np.maximum(np.abs(brow_v) - t["brow_thick"] / 2,
                     np.abs(du) - t["brow_len"])
  _paint(image, _cover(brows, pixel), t["hair"] * 0.8)
  eye_ry = t["eye_ry"] * p["eye_open"]
  lids = _ellipse(du, dv, t["eye_rx"] + 0.012, eye_ry + 0.012)
  _paint(image, _cover(lids, pixel), t["skin"] * 0.35)
  white = _cover(_ellipse(du, dv, t["eye_rx"], eye_ry), pixel)
  _paint(image, white, _rgb(240, 238, 232))
  iris = np.sqrt((du - p["gaze"] * np.sign(uf)) ** 2 + dv ** 2)
  _paint(image, white * _cover(iris - t["iris_r"], pixel),
         _palette(_EYES, t["eye_tone"]))
  _paint(image, white * _cover(iris - 0.45 * t["iris_r"], pixel),
         _rgb(10, 8, 8))
  glasses = t["has_glasses"] < _P_GLASSES
  if glasses.any():
    size = 1.45 * t["eye_rx"]  # half the lens' width
    lens = np.where(t["glasses_shape"] < _P_SQUARE_GLASSES,
                    np.maximum(np.abs(du) - size, np.abs(dv) - 0.75 * size),
                    np.sqrt(du ** 2 + dv ** 2) - size)
    colour = _palette(_FRAMES, t["glasses_tone"])
    _paint(image, _cover(lens, pixel) * (t["glasses_tint"] * glasses),
           colour * 0.4)
    bridge = np.maximum(np.abs(dv + 0.01) - t["glasses_rim"],
                        np.abs(uf) - t["eye_dx"] + size)
    rims = np.minimum(np.abs(lens) - t["glasses_rim"], bridge)
    _paint(image, _cover(rims, pixel) * glasses, colour)


def _expose(image, grid, p, noise):
  """Lighting, colour cast, contrast, brightness, noise: uint8 [n, H, W, 3]."""
  x, y = grid[None, None, :], grid[None, :, None]
  angle = p["light_angle"]
  shade = 1 + p["light"] * (np.cos(angle) * x + np.sin(angle) * y)
  gain = np.stack([1 + p["cast_r"], 1 + p["cast_g"], 1 + p["cast_b"]])
  image *= shade * (gain * p["contrast"])
  # Noise bytes are uniform on 0..255: this step gives them std p["noise"].
  noise_step = p["noise"] * np.float32(np.sqrt(12) / 256)
  # Contrast pivots on 128; +0.5 makes the uint8 truncation round.
  image += (128 * (1 - p["contrast"]) + p["brightness"] + 0.5
            - 127.5 * noise_step)
  image += noise * noise_step
  np.clip(image, 0, 255, out=image)
  return image.astype(np.uint8).transpose(1, 2, 3, 0)
