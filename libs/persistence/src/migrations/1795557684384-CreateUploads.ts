import { MigrationInterface, QueryRunner } from "typeorm";

export class CreateUploads1795557684384 implements MigrationInterface {
    name = 'CreateUploads1795557684384'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`CREATE TABLE "uploads" ("id" character varying(22) NOT NULL, "owner_key_hash" character(64), "file_name" text NOT NULL, "file_size" bigint NOT NULL, "chunk_size" integer NOT NULL, "total_chunks" integer NOT NULL, "content_type" text, "metadata" jsonb NOT NULL DEFAULT '{}'::jsonb, "sha256" character(64), "status" character varying(16) NOT NULL DEFAULT 'uploading', "received_chunks" integer NOT NULL DEFAULT '0', "received_bytes" bigint NOT NULL DEFAULT '0', "error" jsonb, "idempotency_key" character varying(255), "request_hash" character(64), "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "expires_at" TIMESTAMP WITH TIME ZONE NOT NULL, "completed_at" TIMESTAMP WITH TIME ZONE, CONSTRAINT "PK_d1781d1eedd7459314f60f39bd3" PRIMARY KEY ("id"))`);
        await queryRunner.query(`CREATE INDEX "uploads_uploading_expires_at_idx" ON "uploads"  ("expires_at") WHERE "status" = 'uploading'`);
        await queryRunner.query(`CREATE TABLE "upload_chunks" ("upload_id" character varying(22) NOT NULL, "chunk_index" integer NOT NULL, "sha256" character(64) NOT NULL, "size" integer NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_0e919fcf7ebce85116d79aaebc4" PRIMARY KEY ("upload_id", "chunk_index"))`);
        await queryRunner.query(`ALTER TABLE "upload_chunks" ADD CONSTRAINT "FK_75179a2c0860abdd300bd08d833" FOREIGN KEY ("upload_id") REFERENCES "uploads"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
        // Not expressible in entity decorators: one session per (owner, Idempotency-Key), owner possibly null.
        await queryRunner.query(`CREATE UNIQUE INDEX "uploads_owner_idempotency_key_uq" ON "uploads" ((coalesce("owner_key_hash", '')), "idempotency_key") WHERE "idempotency_key" IS NOT NULL`);
        await queryRunner.query(`ALTER TABLE "uploads" ADD CONSTRAINT "uploads_status_check" CHECK ("status" IN ('uploading', 'assembling', 'completed', 'failed', 'aborted', 'expired'))`);
        await queryRunner.query(`ALTER TABLE "uploads" ADD CONSTRAINT "uploads_received_check" CHECK ("received_chunks" BETWEEN 0 AND "total_chunks" AND "received_bytes" BETWEEN 0 AND "file_size")`);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`ALTER TABLE "uploads" DROP CONSTRAINT "uploads_received_check"`);
        await queryRunner.query(`ALTER TABLE "uploads" DROP CONSTRAINT "uploads_status_check"`);
        await queryRunner.query(`DROP INDEX "public"."uploads_owner_idempotency_key_uq"`);
        await queryRunner.query(`ALTER TABLE "upload_chunks" DROP CONSTRAINT "FK_75179a2c0860abdd300bd08d833"`);
        await queryRunner.query(`DROP TABLE "upload_chunks"`);
        await queryRunner.query(`DROP INDEX "public"."uploads_uploading_expires_at_idx"`);
        await queryRunner.query(`DROP TABLE "uploads"`);
    }

}
