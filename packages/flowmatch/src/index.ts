// @rill/flowmatch: conditional flow matching on @rill/autograd — model, paths, couplings, loss, optimizers, samplers,
// likelihood, datasets, metrics, checkpoints. Browser-safe; file helpers live in '@rill/flowmatch/node'.
/**
 * Conditional flow matching on @rill/autograd — model, paths, couplings, loss, optimizers, samplers, likelihood, datasets, metrics, checkpoints. Browser-safe; file helpers live in '@rill/flowmatch/node'.
 *
 * @module @rill/flowmatch
 */
export { MLP } from './mlp.js';
export type { TimeEmbedding, MLPConfig, Labels } from './mlp.js';
export { guidedField, guidedDiffField, type GuidedField } from './guidance.js';
export { ConvClassifier, type ClassifierConfig } from './classifier.js';
export { trainReferee, classify, accuracy, refereeCheckpoint, refereeFromCheckpoint, type RefereeTraining, type Classified } from './referee.js';
export { frechetDistance, frechetDistanceOf, meanCovariance, symmetricEigen } from './frechet.js';
export { UNet, unetTensors, type UNetConfig, type UNetTensor } from './unet.js';
// The layers and optimizers live in @rill/autograd (docs/design.md says why); re-exported here, where the recipes use them.
export { Linear, Activation, Sequential, EMA, ACTIVATIONS, stateDict, loadStateDict } from '@rill/autograd';
export type { Module, InitOptions, ActivationName } from '@rill/autograd';
export { GaussianPath, SCHEDULERS, linear, cosine, vp, type Scheduler, type PathSample, type PathBatch } from './paths.js';
export { couple, sinkhornPlan, COUPLINGS, type CouplingName, type CouplingOptions } from './couplings.js';
export { linearSumAssignment } from './assignment.js';
export { cfmLoss, epsilonTarget, type VelocityModel } from './loss.js';
export { SGD, Adam, AdamW, clipGradNorm, clipGradNormAsync, constantLr, cosineLr, warmupLr } from '@rill/autograd';
export type { Optimizer, OptimizerState, AdamOptions, Schedule } from '@rill/autograd';
export { solve, fieldOf, inChunks, METHODS, FIXED_STEP, EVALS_PER_STEP, type Field, type Model, type Method, type SolveOptions, type SolveResult } from './solvers.js';
export { sweepSolvers, type SweepRow, type SweepResult, type SweepOptions } from './solver-sweep.js';
export { asVelocity, convertPrediction, conversionCoefficients, checkPredictionSetting, pathCoefficients, PREDICTIONS, type PathCoefficients, type Prediction, type PredictionSetting } from './predictions.js';
export { sdeSolve, diffusionAt, DIFFUSION_SCHEDULES, type DiffusionSchedule, type SdeOptions, type SdeResult } from './sde.js';
export { marginalVelocity, type IsotropicMixture } from './marginal.js';
export { logProb, standardNormalLogProb, type DiffField, type LogProbOptions } from './likelihood.js';
export { DATASETS, DATASET_NAMES, DATASET_CLASSES, OVERLAP_CENTRES, OVERLAP_STD, sampleLabeled, sampleDataset, sampleMoonsSklearn, sampleMixture, type DatasetName, type DatasetOptions } from './datasets.js';
export { parseCsv, toCsv, type ParsedCsv, type CsvOptions } from './csv.js';
export { parseNpy, encodeNpy } from './npy.js';
export { parseIdx, mnistSplit, IdxError, type IdxArray, type MnistSplit } from './idx.js';
export { parseSafetensors, encodeSafetensors, type SafetensorsFile } from './safetensors.js';
export { exportTorchcfm, importTorchcfm, TORCHCFM_FORMAT, type TorchcfmImportOptions } from './torchcfm.js';
export { wasserstein2, mmd2, energyDistance, dataFloor } from './metrics.js';
export { encodeCheckpoint, decodeCheckpoint, crc32, CheckpointError, FORMAT_VERSION, READ_VERSIONS, type Checkpoint } from './checkpoint.js';
export { probit, shapeTimes, TIME_SAMPLINGS, type TimeSampling } from './time-sampling.js';
export { SCORE_T0, IMAGE_DATA, type ImageDataName, type FieldModel } from './train-config.js';
export { Trainer, DEFAULT_CONFIG, MAX_BATCH, validateConfig, makeModel, makePath, modelFromCheckpoint, type TrainConfig, type CustomPoints } from './train.js';
export { AffineCoupling, Reverse, ActNorm, NormalizingFlow, type FlowLayer, type FlowConfig } from './flows.js';
export { FlowTrainer, DEFAULT_FLOW_CONFIG, validateFlowConfig, makeFlow, flowFromCheckpoint, type FlowTrainConfig } from './flow-train.js';
