"""Triplet losses: distances, masks, mining and losses (paper §3); the
teacher's distillation losses."""
from facenet_tf.losses.cosine_softmax import CosineClassifier
from facenet_tf.losses.cosine_softmax import cosine_margin_loss_sum
from facenet_tf.losses.distances import METRICS
from facenet_tf.losses.distillation import LOSSES as DISTILL_LOSSES
from facenet_tf.losses.distillation import DistillTerms
from facenet_tf.losses.distillation import centred_targets as distillation_centred_targets
from facenet_tf.losses.distillation import cosine_terms as distillation_cosine_terms
from facenet_tf.losses.distillation import distillation_loss
from facenet_tf.losses.distillation import relational_terms as distillation_relational_terms
from facenet_tf.losses.distillation import unit_targets as distillation_unit_targets
from facenet_tf.losses.distances import distance_matrix
from facenet_tf.losses.distances import pairwise_distances
from facenet_tf.losses.harmonic import harmonic_loss
from facenet_tf.losses.harmonic import harmonic_terms
from facenet_tf.losses.harmonic import union_distances
from facenet_tf.losses.keras_loss import TripletLoss
from facenet_tf.losses.mining import MINERS
from facenet_tf.losses.mining import TripletTerms
from facenet_tf.losses.mining import label_masks
from facenet_tf.losses.triplet import mining_terms
from facenet_tf.losses.triplet import summarize
from facenet_tf.losses.triplet import triplet_batch_all_loss
from facenet_tf.losses.triplet import triplet_hard_loss
from facenet_tf.losses.triplet import triplet_hardest_negative_loss
from facenet_tf.losses.triplet import triplet_random_negative_loss
from facenet_tf.losses.triplet import triplet_semihard_loss
