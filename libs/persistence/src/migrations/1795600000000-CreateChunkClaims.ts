import { MigrationInterface, QueryRunner } from "typeorm";

export class CreateChunkClaims1795600000000 implements MigrationInterface {
    name = 'CreateChunkClaims1795600000000'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`CREATE SEQUENCE "chunk_claim_fence_seq" AS bigint`);
        await queryRunner.query(`CREATE TABLE "chunk_claims" ("upload_id" character varying(22) NOT NULL, "chunk_index" integer NOT NULL, "fence" bigint NOT NULL DEFAULT nextval('chunk_claim_fence_seq'), "claimed_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_chunk_claims" PRIMARY KEY ("upload_id", "chunk_index"))`);
        await queryRunner.query(`ALTER TABLE "chunk_claims" ADD CONSTRAINT "FK_chunk_claims_upload" FOREIGN KEY ("upload_id") REFERENCES "uploads"("id") ON DELETE CASCADE ON UPDATE NO ACTION`);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`DROP TABLE "chunk_claims"`);
        await queryRunner.query(`DROP SEQUENCE "chunk_claim_fence_seq"`);
    }

}
